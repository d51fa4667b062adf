"""A text pipeline defined with the Clarifai pipeline DSL (test data, see README.md)."""

from clarifai.runners.pipelines import ComputeInfo, Pipeline, step, step_ref


def squeeze(value: str) -> str:
    """A helper: extracted into the generated script of the step that calls it."""
    return " ".join(value.split())


@step(
    id="clean-text",
    requirements=["regex>=2024.1"],
    compute=ComputeInfo(cpu_limit="500m", cpu_memory="256Mi"),
)
def clean_text(input_text: str, lowercase: bool = True) -> str:
    text = squeeze(input_text)
    return text.lower() if lowercase else text


summarize = step_ref(
    id="summarize",
    user_id="other-user",
    app_id="shared-app",
    version_id="v7",
    secrets={"API_KEY": "users/other-user/secrets/api-key"},
)


@step(id="word-stats")
def word_stats(text: str, top: int = 3) -> dict:
    counts: dict = {}
    for word in text.split():
        counts[word] = counts.get(word, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: -kv[1])[:top])


@step(id="merge-report", python_version="3.11")
def merge_report(summary: str, stats: str) -> str:
    return f"{summary}\n{stats}"


with Pipeline(id="text-report", user_id="me", app_id="reports") as pipeline:
    raw = pipeline.input("input_text", "The quick  brown fox")
    cleaned = clean_text(input_text=raw)
    summary = summarize(input_text=cleaned.output())
    stats = word_stats(text=cleaned.output(), top=5)
    report = merge_report(
        summary=summary.output(),
        stats=stats.output(),
    )
    cleaned >> [summary, stats] >> report
