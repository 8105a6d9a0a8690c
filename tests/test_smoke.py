from mailgate.gen.zitadel import admin_pb2 as pb


async def test_add_then_get(server):
    md = await server.metadata()
    added = await server.stub.AddEmailProviderSMTP(
        pb.AddEmailProviderSMTPRequest(
            sender_address="a@example.com", sender_name="A", host="smtp.example.com:587"
        ),
        metadata=md,
    )
    got = await server.stub.GetEmailProviderById(pb.GetEmailProviderByIdRequest(id=added.id), metadata=md)
    assert got.config.smtp.host == "smtp.example.com:587"
