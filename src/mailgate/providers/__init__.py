"""The domain: email providers, their activation, and the rules for their secrets."""
