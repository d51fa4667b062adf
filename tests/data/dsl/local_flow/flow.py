"""A locally runnable pipeline defined with the Clarifai pipeline DSL (test data, see ../README.md)."""

from clarifai.runners.pipelines import Pipeline, step


def tokens(text: str) -> list:
    return text.split()


def shout_all(text: str) -> str:
    return text.upper()


@step(id="count-words")
def count_words(text: str) -> int:
    n = len(tokens(text))
    print(f"{n} words")
    return n


@step(id="shout", requirements="requirements-shout.txt")
def shout(text: str, times: int = 1) -> str:
    loud = shout_all(text)
    print(loud * times)
    return loud


with Pipeline(id="local-flow", user_id="me", app_id="flows") as pipeline:
    text = pipeline.input("text", "hello big world")
    counted = count_words(text=text)
    shouted = shout(text=text, times=2)
    counted >> shouted
