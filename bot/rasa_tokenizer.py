"""A Rasa tokenizer for config.yml: jieba on the normalised text (bot.normalize), so the intent model reads what retrieval reads."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.training_data.message import Message

from bot.normalize import VERSION as NORMALIZE_VERSION
from bot.normalize import normalize
from bot.segment import dictionary_fingerprint


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=True)
class NormalizingJiebaTokenizer(JiebaTokenizer):
    """JiebaTokenizer (with the shop's dictionary) over `normalize(text)`: training examples and live
    messages are folded the same way (full-width forms, emoji, runs of ！？, chat-speak, common typos)."""

    @classmethod
    def fingerprint_addon(cls, config: Dict[Text, Any]) -> Optional[Text]:
        """What Rasa's cache of trained components keys on besides the config and the training data: the normalisation's
        version and the shop dictionary. Without it `rasa train` reuses tokens folded or cut the old way."""
        directory = config.get("dictionary_path")
        return f"normalize {NORMALIZE_VERSION} dictionary {dictionary_fingerprint(Path(directory)) if directory else None}"

    def tokenize(self, message: Message, attribute: Text) -> List[Token]:
        import jieba

        text = normalize(message.get(attribute) or "")
        tokens = [Token(word, start) for word, start, _ in jieba.tokenize(text) if word.strip()]
        return self._apply_token_pattern(tokens)
