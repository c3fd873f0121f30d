"""The pure text engine: sentences, language, sentiment, taxonomy matching, tagging, theme
discovery and evaluation. Plain Python (and scikit-learn); nothing of Django."""
