"""What every analysis feature shares about feedback responses.

``filters``: the one filter over responses (parameters cleaned once, one ``Q``) that scores,
drivers, value of experience and topic impact all apply; ``sample``: the minimum number of
answers before a figure is reported. Insights and text both need them and may not import each
other, so they live here, next to ``runs`` and ``stats``, and import no feature.
"""
