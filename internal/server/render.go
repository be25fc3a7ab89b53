// Rendering of the dashboard's HTML pages: the templates, the layout every page shares, and
// the headers and error page that go with them.

package server

import (
	"embed"
	"html/template"
	"net/http"
	"net/url"
	"strings"
)

//go:embed templates/*.html
var templateFiles embed.FS

// refreshSeconds is how often the pages reload themselves (a meta refresh: no JavaScript).
const refreshSeconds = 15

var pages = template.Must(template.New("").Funcs(template.FuncMap{
	"pathEscape": url.PathEscape,
	"join":       strings.Join,
}).ParseFS(templateFiles, "templates/*.html"))

// page is what every page's layout needs.
type page struct {
	Title   string
	Refresh int
	// Root is the dashboard's root relative to the page ("./", "../"), the page's base URL:
	// links are relative to it, so the dashboard works behind a proxy that serves it under a
	// sub-path (https://ci.example.org/ccci/), where links starting with "/" would leave it.
	Root string
}

func newPage(r *http.Request, title string) page {
	return page{Title: title, Refresh: refreshSeconds, Root: rootOf(r)}
}

// rootOf is the relative path from r's page to the dashboard's root, counted on the path as
// the browser has it (an escaped "/" in a name is not a level).
func rootOf(r *http.Request) string {
	if n := strings.Count(strings.TrimPrefix(r.URL.EscapedPath(), "/"), "/"); n > 0 {
		return strings.Repeat("../", n)
	}
	return "./"
}

// render writes template name with data as an HTML page, or the error page if it fails.
func render(w http.ResponseWriter, r *http.Request, name string, data any) {
	var b strings.Builder
	if err := pages.ExecuteTemplate(&b, name, data); err != nil {
		renderError(w, r, http.StatusInternalServerError, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:")
	_, _ = w.Write([]byte(b.String()))
}

// renderError writes the error page with status code and err's message.
func renderError(w http.ResponseWriter, r *http.Request, code int, err error) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	_ = pages.ExecuteTemplate(w, "error.html", struct {
		Layout  page
		Code    int
		Message string
	}{Layout: page{Title: http.StatusText(code), Root: rootOf(r)}, Code: code, Message: err.Error()})
}
