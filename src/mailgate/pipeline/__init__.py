"""What every call goes through, whatever the transport: stages, the runner, the method table."""
