"""Reply suggestions for Chinese e-commerce customer service: Rasa intent + faiss-retrieved vetted replies."""

__version__ = "0.1.0"
