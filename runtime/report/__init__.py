"""The deployment report: one self-contained HTML page that answers "can this ship?"."""

from runtime.report.build import (
    DeploymentReport,
    PrivacyFigures,
    ReportInputError,
    build_report,
)
from runtime.report.html import render_html

__all__ = [
    "DeploymentReport",
    "PrivacyFigures",
    "ReportInputError",
    "build_report",
    "render_html",
]
