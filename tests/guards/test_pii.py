# ruff: noqa: E501  (example tables read better unwrapped)
"""PII detection and masking: what a user sees in the chat after the filter ran."""

from __future__ import annotations

import argparse
import time

import pytest

from pipekit.bench import guard as bench
from pipekit.guards.pii import MaskResult, PiiSpan, find_pii, mask, restore


def found(text: str) -> list[tuple[str, str]]:
    return [(span.type, span.text) for span in find_pii(text)]


@pytest.mark.parametrize(
    "text, value",
    [
        ("연락처는 010-1234-5678로 주세요", "010-1234-5678"),
        ("번호 01012345678 로 문자 주세요", "01012345678"),
        ("해외에서는 +82 10-2345-6789 로 걸어요", "+82 10-2345-6789"),
        ("사무실 02-123-4567 입니다", "02-123-4567"),
        ("지사 (031) 987-6543", "(031) 987-6543"),
        ("call +1 415 555 0132 today", "+1 415 555 0132"),
        ("London office +44 20 7946 0958", "+44 20 7946 0958"),
        ("desk (415) 555-0132", "(415) 555-0132"),
    ],
)
def test_phone_numbers_korean_and_international_are_found(text, value):
    assert found(text) == [("PHONE", value)]


def test_email_glued_to_korean_particle_is_found():
    assert found("메일은 minji.kim@example.co.kr으로 보내 주세요") == [
        ("EMAIL", "minji.kim@example.co.kr")
    ]


def test_only_luhn_valid_cards_are_masked():
    text = "valid 4111 1111 1111 1111, typo 4111 1111 1111 1112, mc 5500-0000-0000-0004"
    assert found(text) == [("CARD", "4111 1111 1111 1111"), ("CARD", "5500-0000-0000-0004")]
    assert "4111 1111 1111 1112" in mask(text).text


def test_resident_registration_number_needs_checksum_or_keyword():
    assert found("고객 900101-1234568 가입") == [("KR_RRN", "900101-1234568")]
    # Checksum wrong and no keyword: a date-prefixed reference number, left alone.
    assert found("접수번호 900101-1234567 처리 상태") == []
    # Issued after October 2020 (no checksum), but announced as one.
    assert found("주민등록번호: 210315-3123456") == [("KR_RRN", "210315-3123456")]
    # Impossible birth date.
    assert found("주민등록번호 901301-1234567") == []


def test_business_registration_number_checksum():
    assert found("사업자등록번호 123-45-67891") == [("KR_BRN", "123-45-67891")]
    assert found("사업자등록번호 123-45-67890") == []


@pytest.mark.parametrize(
    "text, kind",
    [
        ("AWS key AKIAIOSFODNN7EXAMPLE leaked", "AWS_KEY"),
        ("token ghp_" + "a1B2" * 9, "GITHUB_TOKEN"),
        ("pat github_pat_" + "A" * 22 + "_" + "b" * 59, "GITHUB_TOKEN"),
        ("SLACK=xoxb-123456789012-1234567890123-abcdefghijklmnopqrstuvwx", "SLACK_TOKEN"),
        (
            "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlMTIz",
            "BEARER_TOKEN",
        ),
        ("api_key=sk_live_4eC39HqLyjWDarjtT1zdp7dc", "SECRET"),
        ("DB 비밀번호: hunter2hunter2", "SECRET"),
    ],
)
def test_secrets_are_found(text, kind):
    assert [span.type for span in find_pii(text)] == [kind]


def test_ip_addresses_but_not_loopback_or_versions():
    text = "from 203.0.113.7 and 2001:db8::8a2e:370:7334; local 127.0.0.1; release v10.0.0.1"
    assert found(text) == [("IP_ADDRESS", "203.0.113.7"), ("IP_ADDRESS", "2001:db8::8a2e:370:7334")]


@pytest.mark.parametrize(
    "text",
    [
        "pod checkout-7d9f8b6c4-x2kzq restarted 3 times",
        "payments-api-5c8d7b9f6d-m4n2p OOMKilled at 2026-11-20T10:15:03Z",
        "upgraded to 1.28.3, then v2.4.1-rc.2, build 2024.01.15",
        "request 123e4567-e89b-12d3-a456-426614174000 timed out after 5003ms",
        "order #4471 and ORD-2026-000123, invoice 4111111111111111",
        "주문번호 20240115-1234567 배송 조회",
        "commit 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "mac 00:1a:2b:3c:4d:5e at 12:30:45, port 8080, HTTP 503",
        "total 4,500,000원, 3 items, 2026-11-24",
    ],
)
def test_ops_text_is_not_masked(text):
    assert find_pii(text) == []
    assert mask(text).text == text


def test_mask_restore_round_trip_and_stable_placeholders():
    text = "Mail anna@example.com (again: anna@example.com), phone 010-1234-5678, card 4111111111111111"
    result = mask(text)
    assert isinstance(result, MaskResult)
    assert result.text == "Mail [EMAIL_1] (again: [EMAIL_1]), phone [PHONE_1], card [CARD_1]"
    assert result.mapping == {
        "[EMAIL_1]": "anna@example.com", "[PHONE_1]": "010-1234-5678", "[CARD_1]": "4111111111111111",
    }  # fmt: skip
    assert restore(result.text, result.mapping) == text


def test_mapping_from_an_earlier_message_keeps_numbering():
    first = mask("from anna@example.com")
    second = mask("cc tom@example.com and anna@example.com", mapping=first.mapping)
    assert second.text == "cc [EMAIL_2] and [EMAIL_1]"
    answer = "I wrote to [EMAIL_2] and [EMAIL_1]; [EMAIL_9] is unknown."
    assert restore(answer, second.mapping) == (
        "I wrote to tom@example.com and anna@example.com; [EMAIL_9] is unknown."
    )


def test_mask_only_selected_types():
    result = mask("anna@example.com 010-1234-5678", types={"PHONE"})
    assert result.text == "anna@example.com [PHONE_1]"


def test_spans_carry_offsets_into_the_original_text():
    text = "전화 010-1234-5678"
    (span,) = find_pii(text)
    assert span == PiiSpan(3, 16, "PHONE", "010-1234-5678")
    assert text[span.start : span.end] == span.text


@pytest.mark.parametrize(
    "text",
    ["", " ", "\u200b", "\ud800", "🙂" * 1000, "\x00" * 100, "1" * 100_000, "-" * 100_000,
     "a@" * 50_000, "1.1." * 30_000, ":" * 100_000, "010-" * 30_000],
)  # fmt: skip
def test_odd_input_does_not_crash(text):
    find_pii(text)
    assert restore(mask(text).text, mask(text).mapping) == text


def test_huge_input_returns():
    text = ("2026-11-20 INFO checkout-7d9f8b6c4-x2kzq GET /cart 200 12ms\n" * 20_000) + "a@b.io"
    started = time.perf_counter()
    spans = find_pii(text)
    assert time.perf_counter() - started < 10  # a hang guard, not a latency target
    assert [s.type for s in spans] == ["EMAIL"]


def test_shipped_held_out_set_meets_the_quality_target():
    result = bench.run(argparse.Namespace(filter="pii", data=None, threshold=None))
    assert result["rows"] >= 300
    assert result["f1"] >= 0.97, result
    for lang in ("en", "ko"):
        assert result["per_lang"][lang]["f1"] >= 0.97, result["per_lang"]
    assert "per_type" in result and "latency_ms_p95" in result


@pytest.mark.parametrize(
    "text, kind, value",
    [
        ("SSN 078-05-1120 on file", "US_SSN", "078-05-1120"),
        ("social security number 078051120", "US_SSN", "078051120"),
        ("외국인등록번호 900101-5123456", "KR_FRN", "900101-5123456"),
        ("여권번호 M12345678 입니다", "KR_PASSPORT", "M12345678"),
        ("new passport M123A4567", "KR_PASSPORT", "M123A4567"),
        ("운전면허 11-12-345678-90", "KR_DRIVER_LICENSE", "11-12-345678-90"),
        ("신한은행 110-123-456789 로 입금", "BANK_ACCOUNT", "110-123-456789"),
        ("account number 000123456789 at the bank", "BANK_ACCOUNT", "000123456789"),
        ("고객 김민수님께 연락", "PERSON", "김민수"),
        ("성명: 박지영", "PERSON", "박지영"),
        ("Please call Dr. Emily Carter today", "PERSON", "Emily Carter"),
        ("deliver to 221B Baker Street, London", "ADDRESS", "221B Baker Street"),
        (
            "주소: 경기도 성남시 분당구 판교역로 235 101동 202호",
            "ADDRESS",
            "경기도 성남시 분당구 판교역로 235 101동 202호",
        ),
        ("db-1.prod.internal is down", "HOSTNAME", "db-1.prod.internal"),
    ],
)
def test_names_addresses_and_id_numbers_are_found(text, kind, value):
    assert (kind, value) in found(text)


@pytest.mark.parametrize(
    "text",
    [
        "SSN 666-12-3456, 900-12-3456, 123-00-4567 and 123-45-0000 were never issued",
        "build 10.2.14.7 is on the canary, firmware 1.0.3.12 too",
        "pod checkout-7d9f8b6c4-x2kzq restarted three times",
        "주문번호 900101-1234567 배송 조회",
        "우리 팀장님이 승인했어요",
        "Meeting with Product team on Monday",
        "환불 계좌 확인차 연락드립니다. 회신 번호 010-4000-9615",
    ],
)
def test_look_alikes_of_the_new_classes_are_left_alone(text):
    kinds = {kind for kind, _ in found(text)}
    assert kinds <= {"PHONE"}, found(text)


def test_restore_never_writes_values_into_a_tool_call_record():
    mapping = {"[EMAIL_1]": "kim@example.com"}
    call = '<details type="tool_calls" name="send" arguments="{&quot;to&quot;: &quot;[EMAIL_1]&quot;}"></details>'
    assert restore(f"{call} Sent to [EMAIL_1].", mapping) == f"{call} Sent to kim@example.com."
