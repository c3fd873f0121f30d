"""Action impact: KPIs and their observations, impact estimates and ROI."""
