"""mailgate: the email providers of identity platforms, managed and tested through ZITADEL's and Okta's APIs."""

__version__ = "0.1.0"
