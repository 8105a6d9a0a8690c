"""Generated protobuf and gRPC stubs; never edit by hand (make proto)."""
