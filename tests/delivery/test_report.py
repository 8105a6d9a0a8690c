"""Report building: redaction, enhanced status codes, transcript limits, error mapping."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from mailgate.api.status import smtp_test_report
from mailgate.delivery.redaction import Redactor
from mailgate.delivery.report import MAX_TRANSCRIPT, MG_ERROR_IDS, Recorder, Stage, TlsMode, enhanced_status
from mailgate.errors import Code
from mailgate.gen.mailgate.v1 import smtp_test_report_pb2 as pb

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_redactor_removes_secret_forms() -> None:
    secret = "p@ss w0rd/+="
    redactor = Redactor([secret])
    for form in [
        secret,
        base64.b64encode(secret.encode()).decode(),
        "p%40ss%20w0rd%2F%2B%3D",
        "p%40ss+w0rd%2F%2B%3D",
    ]:
        assert redactor.scrub(f"x {form} y") == "x [redacted] y"
    assert Redactor().scrub("nothing") == "nothing"
    redactor.add(b"")
    assert redactor.scrub("unchanged") == "unchanged"


def test_redactor_is_one_pass_and_longest_first() -> None:
    redactor = Redactor(["abc", "abcdef", "r"])
    assert redactor.scrub("abcdef abc") == "[redacted] [redacted]"  # not "[[redacted]edacted]"


@pytest.mark.parametrize(
    ("code", "text", "expected"),
    [
        (550, "5.1.1 <x>: User unknown", "5.1.1"),
        (451, "4.7.0 Try later", "4.7.0"),
        (250, "2.0.0 Ok", "2.0.0"),
        (550, "User unknown", ""),
        (550, "4.1.1 mismatch", ""),
        (535, "5.7.8", "5.7.8"),
        (0, "5.7.1 x", "5.7.1"),
    ],
)
def test_enhanced_status(code: int, text: str, expected: str) -> None:
    assert enhanced_status(code, text) == expected


def test_recorder_records_multiline_replies_and_scrubs() -> None:
    rec = Recorder("mail.test:25", Redactor(["s3cret"]))
    rec.client("EHLO me")
    rec.server(250, "mail.test\nAUTH PLAIN\nHELP")
    rec.stage = Stage.AUTH
    rec.server(535, "5.7.8 bad password s3cret")
    report = rec.report(Stage.AUTH, "detail with s3cret")
    assert list(report.transcript) == [
        "C: EHLO me",
        "S: 250-mail.test",
        "S: 250-AUTH PLAIN",
        "S: 250 HELP",
        "S: 535 5.7.8 bad password [redacted]",
    ]
    assert (report.reply_code, report.enhanced_status_code) == (535, "5.7.8")
    assert report.reply_text == "5.7.8 bad password [redacted]"
    assert report.detail == "detail with [redacted]"
    assert report.stage == Stage.AUTH


def test_new_stage_starts_without_a_reply() -> None:
    rec = Recorder("h:1", Redactor())
    rec.stage = Stage.EHLO
    rec.server(250, "ok")
    rec.stage = Stage.STARTTLS
    assert (rec.reply_code, rec.reply_text) == (0, "")


def test_long_transcripts_are_cut_in_the_middle() -> None:
    rec = Recorder("h:1", Redactor())
    for index in range(500):
        rec.client(f"NOOP {index}")
    lines = rec.transcript()
    assert lines[0] == "C: NOOP 0" and lines[-1] == "C: NOOP 499"
    assert any("lines left out" in line for line in lines)
    assert sum(map(len, lines)) <= MAX_TRANSCRIPT + 100
    rec.client("x" * 10_000)
    assert max(map(len, rec.transcript())) <= 300


@pytest.mark.parametrize(
    ("stage", "code", "error_id"),
    [
        (Stage.RESOLVE, Code.INTERNAL, "EMAIL-skwos"),
        (Stage.CONNECT, Code.INTERNAL, "EMAIL-skwos"),
        (Stage.GREETING, Code.INTERNAL, "EMAIL-skwos"),
        (Stage.EHLO, Code.INTERNAL, "EMAIL-skwos"),
        (Stage.TLS, Code.INTERNAL, "EMAIL-sl39s"),
        (Stage.STARTTLS, Code.INTERNAL, "EMAIL-guvsQ"),
        (Stage.AUTH, Code.INTERNAL, "EMAIL-s9kfs"),
        (Stage.MAIL_FROM, Code.INTERNAL, "EMAIL-s3is3"),
        (Stage.RCPT_TO, Code.INTERNAL, "EMAIL-s4is4"),
        (Stage.DATA, Code.UNKNOWN, None),
        (Stage.QUIT, Code.UNKNOWN, None),
        (Stage.DEADLINE, Code.DEADLINE_EXCEEDED, "MG-SMTP-DEADLINE"),
        (Stage.POLICY, Code.FAILED_PRECONDITION, "MG-OUTBOUND-REFUSED"),
    ],
)
def test_stage_error_mapping(stage: Stage, code: Code, error_id: str | None) -> None:
    failed = Recorder("h:1", Redactor()).failure(stage, "why")
    assert (failed.code, failed.error_id, failed.stage) == (code, error_id, stage)


def test_xoauth2_auth_and_data_texts() -> None:
    assert Recorder("h:1", Redactor()).failure(Stage.AUTH, "x", xoauth2=True).error_id == "EMAIL-av88SB"
    rec = Recorder("h:1", Redactor(["tok"]))
    rec.stage = Stage.DATA
    rec.server(554, "5.7.1 Message rejected tok")
    failed = rec.failure(Stage.DATA, "the server answered 554")
    assert failed.message == "554 5.7.1 Message rejected [redacted]"


def test_every_stage_and_tls_mode_has_a_proto_value() -> None:
    names = {f"SMTP_TEST_STAGE_{stage.name}" for stage in Stage}
    assert names == set(pb.SmtpTestStage.keys()) - {"SMTP_TEST_STAGE_UNSPECIFIED"}
    modes = {f"SMTP_TLS_MODE_{mode.name}" for mode in TlsMode}
    assert modes == set(pb.SmtpTlsMode.keys()) - {"SMTP_TLS_MODE_UNSPECIFIED"}


def test_redactor_finds_a_secret_split_over_pieces() -> None:
    redactor = Redactor(["pw-Sup3r-S3cret"])
    assert redactor.scrub_pieces(["got pw-Sup", "3r-S3", "cret ok"]) == [
        "got [redacted]",
        "[redacted]",
        "[redacted] ok",
    ]
    assert redactor.scrub_pieces(["pw-Sup3r-S3cret", "", "x"]) == ["[redacted]", "", "x"]
    assert Redactor().scrub_pieces(["a", "b"]) == ["a", "b"]


def test_recorder_redacts_a_secret_wrapped_over_reply_lines() -> None:
    rec = Recorder("h:1", Redactor(["pw-Sup3r-S3cret"]))
    rec.stage = Stage.AUTH
    rec.server(535, "5.7.8 bad password pw-Sup3r\n5.7.8 -S3cret, try again")
    report = rec.report(Stage.AUTH, "x")
    assert report.reply_text == "5.7.8 bad password [redacted]\n5.7.8 [redacted], try again"
    assert list(report.transcript) == [
        "S: 535-5.7.8 bad password [redacted]",
        "S: 535 5.7.8 [redacted], try again",
    ]


def test_recorder_keeps_reports_serializable() -> None:
    rec = Recorder("h:1", Redactor())
    rec.server(-1, "what \udcff")  # aiosmtplib: a parsed "-1" code, surrogate-escaped bytes
    report = rec.report(Stage.GREETING, "detail \udcfe")
    assert (report.reply_code, report.reply_text, report.detail) == (0, "what \ufffd", "detail \ufffd")
    smtp_test_report(report).SerializeToString()


def test_the_report_is_a_timeline_of_every_stage_with_its_time_and_reply() -> None:
    now = [100.0]
    rec = Recorder("smtp.example.com:587", Redactor(["s3cret"]), clock=lambda: now[0])
    rec.stage = Stage.CONNECT
    now[0] += 0.020
    rec.stage = Stage.GREETING
    rec.server(220, "mx.example.com ESMTP")
    now[0] += 0.005
    rec.stage = Stage.EHLO
    rec.server(250, "mx.example.com\nAUTH PLAIN")
    rec.stage = Stage.AUTH
    now[0] += 0.300
    rec.server(535, "5.7.8 password s3cret is wrong\nsecond line")

    report = rec.report(Stage.AUTH, "the server answered 535")

    assert [
        (s.stage, s.started_ms, s.duration_ms, s.reply_code, s.enhanced_status_code, s.reply_text)
        for s in report.steps
    ] == [
        (Stage.RESOLVE, 0, 0, 0, "", ""),
        (Stage.CONNECT, 0, 20, 0, "", ""),
        (Stage.GREETING, 20, 5, 220, "", "mx.example.com ESMTP"),
        (Stage.EHLO, 25, 0, 250, "", "mx.example.com"),
        (Stage.AUTH, 25, 300, 535, "5.7.8", "5.7.8 password [redacted] is wrong"),
    ]
    assert report.elapsed_ms == 325


def test_mailgate_s_own_stage_errors_are_documented_with_the_code_they_carry() -> None:
    produced = {}
    for stage in Stage:
        for xoauth2 in (False, True):
            failed = Recorder("h:1", Redactor()).failure(stage, "why", xoauth2=xoauth2)
            if failed.error_id and failed.error_id.startswith("MG-"):
                produced[failed.error_id] = failed.code.name
    assert set(produced) == set(MG_ERROR_IDS)
    rows = {line.split("`")[1]: line for line in README.splitlines() if line.startswith("| `MG-")}
    for error_id, code in produced.items():
        assert MG_ERROR_IDS[error_id].startswith(f"{code}:"), error_id
        assert f"({code})" in rows[error_id], rows.get(error_id)
