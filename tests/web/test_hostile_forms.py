"""Hostile values in every field of every form the clinic team posts: refused or taken, never a crash.

The forms are found as a user finds them: by crawling the pages each of four roles can reach (as the
CSRF test does). Each field of each form is then posted, with the session's token and the page's own
values in every other field, holding values chosen to break parsers and databases: numbers out of every
range, non-numbers, impossible dates, very long text, markup, quotes, digits of other scripts. Every
answer must be a page (200, 303) or a refusal (400, 403, 404, 409, 422), never a server error; the
audit trail must verify afterwards. The other fields keep what the page filled in, often nothing, so
most posts end at the form's own checks (each checks every field, so each hostile value is parsed);
the services behind the forms get hostile values whole from the API conformance run. SQLite and PostgreSQL (the ``session`` fixture): PostgreSQL refuses
more (integers beyond 32 bits in a key, a NUL in text).
"""

from __future__ import annotations

import random
from collections import Counter
from typing import Final

from alscell.services.audit import verify_trail
from tests.figures import scaled
from tests.web.pages import browser, crawl, csrf

EVERY_FIELD: Final = (
    "x" * 5_000,  # longer than any column (PostgreSQL refuses it; SQLite would store it)
    "99999999999999999999999",  # past 64 bits
    "2026-02-30",  # a date that does not exist
)
"""Tried in every field: each once crashed a form on some engine (``make soak`` runs found them)."""
SAMPLED: Final = (
    "",
    " ",
    "-1",
    "0",
    "2147483648",  # one past PostgreSQL's integer
    "1e309",  # past the largest double: inf
    "nan",
    "-0.0",
    "٣",  # an Arabic-Indic 3: int() reads it as 3
    "0001-01-01",
    "9999-12-31",
    "2026-01-05 25:00:00",
    "<script>alert(1)</script>",
    "' OR '1'='1",
    "\u202edesrever",  # right-to-left override
    "🙂",
    "true",
    "[]",
    "!!bool maybe",  # a YAML tag, for the fields that take YAML
)
SAMPLED_PER_FIELD: Final = scaled(2)
ANSWERS: Final = frozenset({200, 303, 400, 403, 404, 409, 422})


def test_every_form_field_refuses_or_takes_hostile_values_without_a_crash(
    app, session, seeded, figures
):
    chooser = random.Random(20261126)  # fixed: the same posts on every run
    answers, failures = Counter[int](), list[str]()
    for role, user in seeded.items():
        client = browser(app, session, user)
        _, forms = crawl(client)
        for action, fields in sorted(forms.items()):
            if action == "/logout":
                continue
            for field in sorted(name for name in fields if name != "csrf_token"):
                sampled = chooser.sample(SAMPLED, min(SAMPLED_PER_FIELD, len(SAMPLED)))
                for value in (*EVERY_FIELD, *sampled):
                    data = {**fields, field: value, "csrf_token": csrf(client)}
                    try:
                        status = client.post(action, data=data).status_code
                    except Exception as error:  # a server error, raised by the test client
                        status, detail = 500, f"{type(error).__name__}: {error}"
                    else:
                        detail = ""
                    answers[status] += 1
                    if status not in ANSWERS:
                        failures.append(
                            f"{role.value} {action} {field}={value[:40]!r}: {status} {detail[:300]}"
                        )

    assert failures == [], "\n".join(failures)
    assert verify_trail(session) == []
    assert answers.total() > 500  # the crawl reached the program's forms, not just a few
    assert answers[403] < answers.total() / 10  # posts reach the forms' rules, not the CSRF check
    figures.add("posts with a hostile value", answers.total())
    for status, count in sorted(answers.items()):
        figures.add(f"answered {status}", count)
    figures.add("server errors", len(failures))
