"""Rasa custom actions (the rasa-sdk action server); `action_suggest_replies` calls the bot engine."""
