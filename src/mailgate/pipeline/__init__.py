"""What every call goes through, whatever the transport: auth, validation, limits, errors, logging."""
