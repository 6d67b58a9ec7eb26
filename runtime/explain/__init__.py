"""Explaining a trained model: why it predicts what it predicts, and what each layer sees.

Qt-free and driven by plain arrays. The modules:

- `methods`: the methods by name, each with a one-line reading guide for learners
  (no TensorFlow import, so views can list them cheaply).
- `scoring`: the model seen as one function of a dataset sample (`ModelScorer`),
  which handles several Input nodes and picks one output.
- `gradients`: Grad-CAM, integrated gradients and SmoothGrad.
- `perturbation`: occlusion sensitivity, permutation feature importance and
  SHAP's model-agnostic permutation explainer.
- `text`: word attributions for a model that reads text (occlusion and SHAP
  over its words, split as its TextVectorization splits them).
- `activations`: what a node outputs for a sample (feature maps, vectors).
- `explain`: one entry point, `explain(scorer, method, ...)`, returning an `Explanation`.
- `result`: `Explanation` and `NodeOutput`, plain data without TensorFlow.
- `render`, `png` and `export`: pictures, PNG bytes and files, without matplotlib or
  TensorFlow (the window draws results that the training process computed).
- `inputs`: a sample file the user brings, preprocessed like the training data.
- `errors`: `ExplainError`, the one error for input a user can fix.
"""
