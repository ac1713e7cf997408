package report

import "html/template"

// pageTemplate is the report. Inline style only, no script: the Content-Security-Policy
// forbids every fetch, so the page shows the same with no network. The colours are
// not the only sign of a result: each cell says it in words too.
var pageTemplate = template.Must(template.New(FileName).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="matrix">
<title>{{.Title}}</title>
<style>
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:1.5em;color:#1b1f24;background:#fff}
h1{font-size:1.4em;margin:0 0 .4em}h2{font-size:1.15em;margin:1.6em 0 .3em}h3{font-size:1em;margin:1em 0 .3em;color:#444}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px}
dl.inputs{display:grid;grid-template-columns:max-content auto;gap:.1em 1em;margin:0 0 1em}
dl.inputs dt{color:#555}dl.inputs dd{margin:0;font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px;word-break:break-all}
.counts span{display:inline-block;margin-right:.6em;padding:.1em .6em;border-radius:1em;border:1px solid}
table.grid{border-collapse:collapse;margin:.3em 0 1em}
table.grid th{background:#f3f4f6;border:1px solid #d0d7de;padding:.3em .5em;text-align:left;font-weight:600;vertical-align:top}
table.grid td{border:1px solid #d0d7de;padding:3px;vertical-align:top;min-width:12em}
table.grid th.corner{color:#666;font-weight:400;font-style:italic}
td.none{background:repeating-linear-gradient(45deg,#fafafa,#fafafa 4px,#f0f0f0 4px,#f0f0f0 8px);color:#999;text-align:center}
.cell{border-left:6px solid;padding:.3em .5em;margin:1px 0;max-width:30em;overflow-wrap:anywhere}
.cell .label{font-weight:700;text-transform:uppercase;font-size:11px;letter-spacing:.03em}
.cell .name{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px}
.cell .facts{color:#333;font-size:12px}
.cell ul{margin:.2em 0 0;padding-left:1.1em;font-size:12px}
.cell .reason{font-size:12px;margin-top:.2em}
.cell .warn{color:#7a4d00}
.passed{background:#e6f6e6;border-color:#2e7d32}.passed .label{color:#1b5e20}
.built{background:#e7efff;border-color:#3b6fd1}.built .label{color:#1f4fa8}
.failed{background:#ffe5e5;border-color:#c62828}.failed .label{color:#a01818}
.skipped{background:#f2f2f2;border-color:#9e9e9e;color:#6b6b6b}.skipped .label{color:#6b6b6b}
.counts .passed,.counts .built,.counts .failed,.counts .skipped{border-left-width:1px}
a{color:#0550ae}
footer{margin-top:2em;color:#777;font-size:12px}
</style>
</head>
<body>
<h1>{{.Title}}</h1>
<dl class="inputs">
{{- range .Inputs}}
<dt>{{.Name}}</dt><dd>{{.Value}}</dd>
{{- end}}
</dl>
<p class="counts">{{range .Counts}}<span class="{{.State}}">{{.N}} {{.State}}</span>{{end}}</p>
{{- range .Sections}}
<section class="target">
<h2>{{.Target}} <small>({{.Count}}; axes: {{.Axes}})</small></h2>
{{- range .Grids}}
{{- if .Title}}
<h3>{{.Title}}</h3>
{{- end}}
<table class="grid">
<thead><tr><th class="corner">{{.RowAxis}}{{if .ColAxis}} ↓ / {{.ColAxis}} →{{end}}</th>{{range .Cols}}<th>{{.}}</th>{{end}}</tr></thead>
<tbody>
{{- range .Rows}}
<tr><th>{{.Head}}</th>
{{- range .Cells}}
{{- if .}}<td>
{{- range .}}
<div class="cell {{.State}}" data-state="{{.State}}" data-cell="{{.ID}}" title="{{.ID}}">
<div><span class="label">{{.Label}}</span> <span class="name">{{if .Href}}<a href="{{.Href}}">{{.Name}}</a>{{else}}{{.Name}}{{end}}</span></div>
{{- if .Size}}
<div class="facts">{{.Size}} · {{.Time}} · <span class="mono" title="sha256 {{.SHA}}">{{.SHAShort}}</span></div>
{{- end}}
{{- if .Reused}}
<div class="facts">{{.Reused}}</div>
{{- end}}
{{- if .Lock}}
<div class="facts">{{.Lock}}</div>
{{- end}}
{{- if .Reason}}
<div class="reason">{{.Reason}}</div>
{{- end}}
{{- if .Tail}}
<div class="reason mono">{{.Tail}}</div>
{{- end}}
{{- if .Tests}}
<ul>{{range .Tests}}<li>{{.}}</li>{{end}}{{if .More}}<li>and {{.More}} more</li>{{end}}</ul>
{{- end}}
{{- range .Warnings}}
<div class="reason warn">⚠ {{.}}</div>
{{- end}}
{{- if .LogHref}}
<div class="facts"><a href="{{.LogHref}}">log</a></div>
{{- end}}
</div>
{{- end}}
</td>
{{- else}}<td class="none">—</td>
{{- end}}
{{- end}}
</tr>
{{- end}}
</tbody>
</table>
{{- end}}
</section>
{{- end}}
<footer>Written by matrix from manifest.json; logs are in logs/ beside this file.</footer>
</body>
</html>
`))
