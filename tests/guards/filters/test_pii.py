"""The pii filter through `pipekit serve`: masked for the model, restored for the same user."""

from __future__ import annotations

import time

from tests.guards.filters.conftest import answer_shown, outlet_body
from tests.support.owui import chat_body

MESSAGE = "Mail kim@example.com or call 010-1234-5678. 주민번호 900101-1234568, server 10.0.3.7"
# IP addresses are opt-in: the server address stays as written.
MASKED = "Mail [EMAIL_1] or call [PHONE_1]. 주민번호 [KR_RRN_1], server 10.0.3.7"


def turn(client, who, message, answer, *, chat_id="c1", user=None):
    """Inlet for the message, then outlet for `answer`, as Open WebUI does for one turn."""
    user = user or who
    inlet = client.inlet("pii", chat_body("chat", message, user=user, chat_id=chat_id), user)
    assert inlet.status_code == 200, inlet.text
    outlet_messages = [
        {"role": "user", "content": message},
        {"role": "assistant", "content": answer},
    ]
    outlet = client.outlet("pii", outlet_body("chat", outlet_messages, chat_id=chat_id), user)
    assert outlet.status_code == 200, outlet.text
    return inlet.json()["messages"], answer_shown(outlet.json())


def test_inlet_masks_and_outlet_restores_for_the_same_user_and_chat(client, who):
    sent, shown = turn(client, who, MESSAGE, "I will write to [EMAIL_1] and call [PHONE_1].")
    assert sent[-1]["content"] == MASKED
    assert shown == "I will write to kim@example.com and call 010-1234-5678."


def test_ip_addresses_and_internal_hosts_are_masked_only_when_opted_in(client, who):
    text = "db at 10.0.3.7 (db-1.prod.internal) is down"
    assert turn(client, who, text, "ok")[0][-1]["content"] == text
    client.valves("pii", mask_ip_address=True, mask_hostname=True)
    sent, _ = turn(client, who, text, "ok", chat_id="c2")
    assert sent[-1]["content"] == "db at [IP_ADDRESS_1] ([HOSTNAME_1]) is down"


def test_names_ids_and_addresses_are_masked_and_restored_in_the_answer(client, who):
    text = "성명: 박지영, 여권번호 M12345678, 주소 서울특별시 강남구 테헤란로 123"
    sent, shown = turn(client, who, text, "[PERSON_1] 님, [ADDRESS_1] 로 보내겠습니다.")
    assert sent[-1]["content"] == "성명: [PERSON_1], 여권번호 [KR_PASSPORT_1], 주소 [ADDRESS_1]"
    assert shown == "박지영 님, 서울특별시 강남구 테헤란로 123 로 보내겠습니다."


def test_placeholders_in_a_tool_call_of_the_answer_stay_masked(client, who):
    tool_call = (
        '<details type="tool_calls" done="true" id="call_1" name="send_mail" '
        'arguments="{&quot;to&quot;: &quot;[EMAIL_1]&quot;}">\nSent.\n</details>'
    )
    _, shown = turn(client, who, MESSAGE, f"{tool_call}\nI mailed [EMAIL_1].")
    assert shown == f"{tool_call}\nI mailed kim@example.com."


def test_placeholders_are_not_restored_for_another_user_or_chat(client, who):
    turn(client, who, MESSAGE, "ok")
    stranger = {**who, "id": who["id"] + "-other"}
    answer = [{"role": "user", "content": "?"}, {"role": "assistant", "content": "[EMAIL_1]"}]
    for user, chat_id in ((stranger, "c1"), (who, "c2")):
        response = client.outlet("pii", outlet_body("chat", answer, chat_id=chat_id), user)
        assert answer_shown(response.json()) == "[EMAIL_1]"


def test_history_is_masked_with_the_same_placeholders(client, who):
    turn(client, who, MESSAGE, "Noted [EMAIL_1].")
    history = [
        {"role": "user", "content": MESSAGE},
        {"role": "assistant", "content": "Noted kim@example.com."},
        {"role": "user", "content": "Also lee@example.org, and kim@example.com again"},
    ]
    sent = client.inlet("pii", chat_body("chat", history, user=who, chat_id="c1"), who).json()
    assert [m["content"] for m in sent["messages"]] == [
        MASKED,
        "Noted [EMAIL_1].",
        "Also [EMAIL_2], and [EMAIL_1] again",
    ]


def test_restore_off_keeps_placeholders(client, who):
    client.valves("pii", restore_in_answer=False)
    _, shown = turn(client, who, MESSAGE, "Writing to [EMAIL_1].")
    assert shown == "Writing to [EMAIL_1]."


def test_values_the_user_never_sent_are_masked_as_leaks(client, who):
    _, shown = turn(
        client, who, MESSAGE, "CC [EMAIL_1] and boss@corp.example, key AKIAIOSFODNN7EXAMPLE"
    )
    assert shown == "CC kim@example.com and [EMAIL_REDACTED], key [AWS_KEY_REDACTED]"


def test_per_type_toggles(client, who):
    client.valves("pii", mask_ip_address=True, mask_phone=False)
    sent, _ = turn(client, who, MESSAGE, "ok")
    assert sent[-1]["content"] == (
        "Mail [EMAIL_1] or call 010-1234-5678. 주민번호 [KR_RRN_1], server [IP_ADDRESS_1]"
    )


def test_image_parts_are_kept(client, who):
    parts = [
        {"type": "text", "text": "my mail is kim@example.com"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA=="}},
    ]
    body = chat_body("chat", [{"role": "user", "content": parts}], user=who)
    content = client.inlet("pii", body, who).json()["messages"][-1]["content"]
    assert content[0] == {"type": "text", "text": "my mail is [EMAIL_1]"}
    assert content[1]["type"] == "image_url"


def test_pod_names_versions_dates_and_order_numbers_pass(client, who):
    text = (
        "pod api-7f9c8d6b5-x2kqp on v2.14.3 since 2024-05-01, order 20240501-123456, "
        "build 10.2.14.7, 주문번호 900101-1234567"
    )
    client.valves("pii", mask_ip_address=True)
    sent, _ = turn(client, who, text, "ok")
    assert sent[-1]["content"] == text


def test_a_pasted_megabyte_customer_list_is_masked_quickly(client, who):
    rows = "".join(
        f"customer {i}: c{i}@example.com, 010-{1000 + i % 9000}-5678\n" for i in range(20_000)
    )
    started = time.monotonic()
    response = client.inlet("pii", chat_body("chat", rows, user=who), who)
    elapsed = time.monotonic() - started
    content = response.json()["messages"][-1]["content"]
    assert len(rows) > 900_000 and "@example.com" not in content and "[EMAIL_20000]" in content
    assert elapsed < 10, elapsed
