"""One chart card: a Plotly figure, the same numbers as a table, and a CSV download.

A page lists its cards as builders keyed by a short id; `render_dashboard` draws them all, or,
for `?csv=<id>`, runs only that builder and streams its table. So the chart, its table and its
CSV come from one computation, which is the same query runner the API calls.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import plotly.graph_objects as go
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import SafeString, mark_safe

from tandem.crm.exports import safe_cell

CHART_CONFIG = {"displaylogo": False, "responsive": True}
LAYOUT = {
    "margin": {"l": 60, "r": 20, "t": 10, "b": 50},
    "height": 320,
    "paper_bgcolor": "rgba(0,0,0,0)",
    "plot_bgcolor": "rgba(0,0,0,0)",
    "font": {"family": "system-ui, sans-serif", "size": 12},
}


@dataclass
class Chart:
    """A card: figure (None when there is nothing to draw), table columns and rows."""

    key: str
    title: str
    figure: go.Figure | None
    columns: Sequence[str]
    rows: Sequence[Sequence[Any]]
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def display_rows(self) -> list[list[str]]:
        """The rows as the table view shows them."""
        return [[cell(v) for v in row] for row in self.rows]

    @property
    def html(self) -> SafeString:
        """The figure's markup (plotly.js is loaded once by the page)."""
        if self.figure is None:
            return mark_safe("")
        # The defaults fill in what the builder left unset (a sankey or a long bar list sets its
        # own height; a horizontal bar chart its margins).
        own = self.figure.layout.to_plotly_json().keys()
        self.figure.update_layout(**{k: v for k, v in LAYOUT.items() if k not in own})
        # Plotly serialises every value as JSON inside its own script; visitor-typed labels
        # (campaign names) are JSON-escaped there, and the div carries no user text.
        return mark_safe(
            self.figure.to_html(full_html=False, include_plotlyjs=False, config=CHART_CONFIG)
        )


Builder = Callable[[], Chart]


def cell(value: Any) -> str:
    """A table value as text: rates and money rounded, None as an empty cell."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".") if value == value else ""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return str(value)


def csv_response(chart: Chart, *, filename: str) -> HttpResponse:
    """The chart's table as a formula-safe CSV download."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    writer = csv.writer(response)
    writer.writerow([safe_cell(c) for c in chart.columns])
    for row in chart.rows:
        # Numbers go out as numbers (a negative gap must stay "-5", not "'-5"); text is made safe.
        writer.writerow(
            [cell(v) if isinstance(v, int | float | Decimal) else safe_cell(v) for v in row]
        )
    return response


def render_dashboard(
    request: HttpRequest,
    *,
    template: str,
    page: str,
    builders: dict[str, Builder],
    context: dict[str, Any],
) -> HttpResponse:
    """The page with every card, or `?csv=<key>`: that one card's table as CSV (unknown → 404)."""
    key = request.GET.get("csv")
    if key is not None:
        if key not in builders:
            raise Http404("no such chart")
        return csv_response(builders[key](), filename=f"{page}-{key}")
    charts = [build() for build in builders.values()]
    return render(request, template, {**context, "charts": charts, "page": page})
