"""The dashboard at /ui: server-rendered pages (Jinja2) over the app's own API, with a small
script layer (htmx and its SSE extension, SortableJS, uPlot) vendored in static/vendor."""
