"""Bodies that spell their own journal text write exactly what encoding their JSON would."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from oncall_tui.core.journal import DeliveryAccepted, SignalAttached, decode
from oncall_tui.core.journal_body import JournalBody, encode_body

_TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=40)
_INTS = st.integers(min_value=-(2**63), max_value=2**63 - 1)


def _same_text(body: JournalBody) -> None:
    data = body.to_json()
    assert body.to_text(data) == encode_body(data)
    assert decode(body.KIND, data) == body


@given(_TEXT, _INTS)
def test_an_attachment_is_spelled_as_its_json_encodes(incident_id: str, signal_id: int) -> None:
    _same_text(SignalAttached(incident_id, signal_id))


@given(_INTS, _TEXT, _INTS)
def test_an_accepted_delivery_is_spelled_as_its_json_encodes(
    delivery_id: int, source: str, signals: int
) -> None:
    _same_text(DeliveryAccepted(delivery_id, source, signals))


def test_fields_of_another_type_are_encoded_as_json_would() -> None:
    # Bodies are not validated: what the journal always wrote for them, it still writes.
    odd = [SignalAttached("INC-1", True), DeliveryAccepted(1.5, "x", 2)]  # type: ignore[arg-type]
    for body in odd:
        assert body.to_text(body.to_json()) == encode_body(body.to_json())


def test_the_common_spelling_is_compact_and_sorted() -> None:
    text = DeliveryAccepted(7, "pagerduty", 1).to_text({})
    assert text == '{"delivery_id":7,"signals":1,"source":"pagerduty"}'
