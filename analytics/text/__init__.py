"""Text analytics: taxonomy, tagging, corrections, themes and topic impact.

The pure engine (tagger, sentiment, language, taxonomy matching, discovery) is in ``engine``.
"""
