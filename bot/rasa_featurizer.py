"""A Rasa dense featurizer that gives DIET the sentence-transformers embedding of each message."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class SentenceEncoderFeaturizer(DenseFeaturizer, GraphComponent):
    """Sentence features from the same encoder the retrieval index uses (bot.yml's `encoder` by default)."""

    @classmethod
    def required_components(cls) -> List[type]:
        return [Tokenizer]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {**DenseFeaturizer.get_default_config(), "encoder": None}

    @staticmethod
    def required_packages() -> List[Text]:
        return ["sentence_transformers"]

    def __init__(self, config: Dict[Text, Any], execution_context: ExecutionContext) -> None:
        super().__init__(execution_context.node_name, config)
        self._encoder: Optional[Any] = None

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "SentenceEncoderFeaturizer":
        return cls(config, execution_context)

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        pass

    def _get_encoder(self) -> Any:
        if self._encoder is None:
            from bot.encoder import load_encoder
            from bot.settings import load_settings

            self._encoder = load_encoder(self._config.get("encoder") or load_settings().encoder)
        return self._encoder

    def _vectors(self, texts: List[str]) -> np.ndarray:
        encoder = self._get_encoder()
        if len(texts) == 1:  # a live message: cached, so retrieval reuses this vector
            return encoder.embed(texts[0]).reshape(1, -1)
        return encoder.encode(texts)

    def process(self, messages: List[Message]) -> List[Message]:
        todo = [m for m in messages if m.get(TEXT) and m.get(TOKENS_NAMES[TEXT])]
        if todo:
            vectors = self._vectors([m.get(TEXT) for m in todo])
            for message, vector in zip(todo, vectors):
                tokens = message.get(TOKENS_NAMES[TEXT])
                sequence = np.zeros((len(tokens), vector.shape[0]), dtype=np.float32)
                self.add_features_to_message(sequence, vector.reshape(1, -1), TEXT, message)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process(training_data.training_examples)
        return training_data
