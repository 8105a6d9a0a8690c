"""The test email's header set, and sender names that try to add to it."""

# Every header of the test email, in order; nothing a caller sends may add one.
HEADERS = [
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "Auto-Submitted",
    "Content-Type",
    "Content-Transfer-Encoding",
    "MIME-Version",
]

# Names that would add a header line or a body if any of their decoded forms reached a header.
INJECTIONS = {
    "crlf": "Evil\r\nBcc: victim@example.com",
    "b-word": "=?utf-8?b?eA0KQmNjOiBldmlsQGV2aWwudGVzdA==?=",  # "x", CRLF, "Bcc: evil@evil.test"
    "q-word with body": "=?utf-8?q?x=0D=0AContent-Type:_text/html=0D=0A=0D=0A<b>Click</b>?=",
    "word inside a word": "a=?utf-8?q?=0ABcc:_e@evil.test?=b",
    "quoted word": '"=?utf-8?q?x=0D=0ABcc:_e@evil.test?="',
    "nested word": "=?utf-8?q?=3D=3Futf-8=3Fq=3Fx=3D0D=3D0ABcc:_e=3F=3D?=",
    "unknown charset": "=?x-unknown?q?x=0ABcc:_e@evil.test?=",
    "tab": "a\tb",
    "nel": "a\x85Bcc: e@evil.test",
    "line separator": "a\u2028Bcc: e@evil.test",
}
