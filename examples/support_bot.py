"""A small support bot instrumented with tokentrail: the app `make demo` runs.

It answers a handful of customer questions with retrieval + one LLM call each, through the real
`openai` client. With OPENAI_API_KEY set it calls the real API (model from OPENAI_MODEL, default
gpt-4o-mini); without, it starts the fake provider from examples/fake_provider.py on loopback.

    TOKENTRAIL_API_KEY=tt_... python examples/support_bot.py
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from openai import OpenAI

import tokentrail

DOCS = {
    "password": "Passwords are reset from Account > Security. The reset link expires after 30 minutes.",
    "billing": "Invoices are issued monthly on the 1st and can be downloaded as PDF from Billing.",
    "api": "The API allows 600 requests per minute per key. Higher limits are on the Scale plan.",
    "export": "Data exports (CSV, Parquet) are available on all paid plans from Settings > Export.",
    "security": "Two-factor authentication supports TOTP apps and FIDO2 hardware keys.",
}
QUESTIONS = [
    ("u-101", "How do I reset my password?"),
    ("u-102", "When are invoices issued, and where can I download them?"),
    ("u-103", "What is the API rate limit?"),
    ("u-101", "Can I export my data to Parquet?"),
    ("u-104", "Do you support hardware security keys for two-factor login?"),
    ("u-105", "My invoice shows the wrong company name, how do I fix it?"),
    ("u-102", "Is there an SLA for the API?"),
    ("u-106", "How do I delete my account?"),
]


@tokentrail.observe(kind="retrieval")
def retrieve(question: str, k: int = 2) -> list[str]:
    words = {word.strip("?,.").lower() for word in question.split()}
    scored = sorted(DOCS.items(), key=lambda item: -sum(word in item[1].lower() for word in words))
    if "delete" in words:
        raise LookupError("no document covers account deletion")
    return [text for _, text in scored[:k]]


def generate(client: OpenAI, model: str, question: str, context: list[str], *, stream: bool) -> str:
    # No decorator needed: with instrument=True the openai call itself becomes an llm span
    # (model, tokens, cost, messages, time to first token) under the caller's span.
    messages = [
        {
            "role": "system",
            "content": "Answer the customer's question from the context only.\n" + "\n".join(context),
        },
        {"role": "user", "content": question},
    ]
    if stream:
        chunks = client.chat.completions.create(model=model, messages=messages, temperature=0.2, stream=True)
        return "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
    response = client.chat.completions.create(model=model, messages=messages, temperature=0.2)
    return response.choices[0].message.content or ""


@tokentrail.observe(kind="chain")
def answer(client: OpenAI, model: str, question: str, *, stream: bool = False) -> str:
    try:
        context = retrieve(question)
    except LookupError:
        context = []
    return generate(client, model, question, context, stream=stream)


def run(client: OpenAI, model: str, rounds: int) -> int:
    answered = 0
    for round_number in range(rounds):
        for index, (user_id, question) in enumerate(QUESTIONS):
            with tokentrail.attributes(
                session_id=f"{user_id}-{round_number}", user_id=user_id, tags=["demo"]
            ):
                reply = answer(
                    client, model, question, stream=index % 2 == 1
                )  # half streamed: time to first token
            answered += 1
            print(f"  {user_id}: {question}\n    -> {reply}")
    return answered


def main() -> int:
    rounds = int(os.environ.get("SUPPORT_BOT_ROUNDS", "1"))
    tokentrail.init(service_name="support-bot", instrument=True)
    if os.environ.get("OPENAI_API_KEY"):
        client, provider = OpenAI(), None
        model = os.environ.get("OPENAI_MODEL", "gpt-4o-mini")
        print(f"calling the OpenAI API ({model})")
    else:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from fake_provider import FakeProvider

        provider = FakeProvider(latency_s=0.02, topical=True).start()
        client, model = OpenAI(base_url=provider.base_url, api_key="fake-key"), "gpt-4o-mini"
        print(f"no OPENAI_API_KEY: calling the local fake provider at {provider.base_url}")
    started = time.perf_counter()
    try:
        answered = run(client, model, rounds)
    finally:
        delivered = tokentrail.flush(timeout_s=10)
        if provider is not None:
            provider.stop()
    print(
        f"answered {answered} questions in {time.perf_counter() - started:.2f}s; spans delivered: {delivered}"
    )
    return 0 if delivered else 1


if __name__ == "__main__":
    raise SystemExit(main())
