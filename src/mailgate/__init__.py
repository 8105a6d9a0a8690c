"""mailgate: email providers of identity platforms, managed and tested via ZITADEL and Okta APIs."""

__version__ = "0.1.0"
