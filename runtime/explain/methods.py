"""The explanation methods a user can pick, each with a line that says how to read it.

Declared here, once, for the panel, the command line and the run kind. No
TensorFlow import: views list the methods without loading Keras.
"""

from __future__ import annotations

from dataclasses import dataclass

SAMPLE = "sample"
GLOBAL = "global"


@dataclass(frozen=True)
class Method:
    """An explanation method.

    Attributes:
        name: The name in requests and on the command line ("gradcam").
        title: How the user sees it.
        scope: SAMPLE (explains one prediction) or GLOBAL (the whole test split).
        reading: One or two plain sentences for learners: what it shows, how to read it.
        needs_conv: True when the model needs a convolution node (Grad-CAM).
        text_reading: How to read it on a text model, whose words it scores; None
            when the method works on numbers only (gradients, shuffled features).
        on_numbers: How a numbers-only method reads its input, for the refusal on text.
    """

    name: str
    title: str
    scope: str
    reading: str
    needs_conv: bool = False
    text_reading: str | None = None
    on_numbers: str = ""

    def refusal_for_text(self) -> str:
        """Why this method cannot explain a text model, naming what can."""
        return (
            f"{self.title} works on numbers ({self.on_numbers}), not on words; "
            "for text, use occlusion (or SHAP for short texts)."
        )

    def refusal_for(self, reads_text: bool, has_convolution: bool) -> str | None:
        """Why this method cannot explain a model, or None when it can."""
        if reads_text and self.text_reading is None:
            return self.refusal_for_text()
        if self.needs_conv and not has_convolution:
            return NO_CONVOLUTION
        return None


NO_CONVOLUTION = (
    "Grad-CAM needs a convolution node and this model has none; try integrated "
    "gradients, SmoothGrad or occlusion instead."
)


METHODS: dict[str, Method] = {
    method.name: method
    for method in (
        Method(
            "gradcam",
            "Grad-CAM",
            SAMPLE,
            "Bright areas are where the chosen convolution layer found the evidence that "
            "raised the score of the predicted class; dark areas did not matter to it. It "
            "is coarse: one value per position of that layer's output.",
            needs_conv=True,
            on_numbers="it weighs a convolution layer's output by its gradients",
        ),
        Method(
            "ig",
            "Integrated gradients",
            SAMPLE,
            "Each input value gets a share of the score: how much the prediction moved "
            "when that value faded in from a blank (all-zero) input. Red pushed the score "
            "up, blue pushed it down, and the shares add up to the score's change.",
            on_numbers="it fades input values in from zero",
        ),
        Method(
            "smoothgrad",
            "SmoothGrad saliency",
            SAMPLE,
            "Bright values are those the score is most sensitive to: nudging them would "
            "change the prediction most. Averaged over noisy copies of the input so the "
            "picture is less speckled.",
            on_numbers="it adds a little noise to input values",
        ),
        Method(
            "occlusion",
            "Occlusion sensitivity",
            SAMPLE,
            "A small patch is blanked out at every position in turn; bright areas are "
            "where hiding the input lowered the score most, so the model relied on them.",
            text_reading="Each word is left out of the text in turn. Red words made the model "
            "surer of the class (without them its probability drops), blue words argued "
            "against it; the deeper the shade, the bigger the change.",
        ),
        Method(
            "shap",
            "SHAP (permutation)",
            SAMPLE,
            "Each feature's bar is its share of this prediction compared with an average "
            "sample: features are switched to typical values in random orders and the "
            "change of the score is credited fairly. Right (red) raised it, left lowered it.",
            text_reading="Words are left out in many combinations, and each word gets its fair "
            "share of the difference between this text's score and an empty text's. Red "
            "words raised the class's probability, blue words lowered it.",
        ),
        Method(
            "permutation",
            "Permutation importance",
            GLOBAL,
            "For the whole test split: how much the score drops when one feature's values "
            "are shuffled between samples. A long bar means the model depends on that "
            "feature; a bar near zero means it ignores it.",
            on_numbers="it shuffles a feature's values between samples",
        ),
    )
}


def method_names() -> list[str]:
    return list(METHODS)


def text_method_names() -> list[str]:
    """The methods that explain a text model (they score its words)."""
    return [name for name, method in METHODS.items() if method.text_reading is not None]
