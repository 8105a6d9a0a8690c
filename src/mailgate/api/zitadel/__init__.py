"""ZITADEL's AdminService (email-provider RPCs): request messages in, domain calls, response messages out."""
