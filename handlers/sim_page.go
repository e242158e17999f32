package handlers

import (
	"io/fs"
	"net/http"
	"path"

	"gridbot/bot"
	"gridbot/handlers/simweb"

	"github.com/gin-gonic/gin"
)

// simPageCSP keeps the page to its own files: no inline script, no other
// origin (the machine may have no network), images from the simulator or
// the browser (a photo being sent).
const simPageCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
	"connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"

// page answers GET /sim/ with the simulator's page.
func (s *Sim) page(c *gin.Context) {
	s.serveStatic(c, "index.html")
}

// asset answers GET /sim/assets/FILE with the page's CSS and JavaScript.
func (s *Sim) asset(c *gin.Context) {
	s.serveStatic(c, path.Clean("/" + c.Param("file"))[1:])
}

// serveStatic serves one embedded file of the page; the page must always
// be reloaded fresh (it is a few KiB on localhost).
func (s *Sim) serveStatic(c *gin.Context, name string) {
	static, err := simweb.Static()
	if err != nil {
		writeError(c, err)
		return
	}
	data, err := fs.ReadFile(static, name)
	if err != nil || name == "" {
		writeError(c, bot.Errorf(bot.ENOTFOUND, "no such file"))
		return
	}
	ctype := map[string]string{".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}[path.Ext(name)]
	if ctype == "" {
		ctype = http.DetectContentType(data)
	}
	c.Header("Cache-Control", "no-cache")
	c.Header("X-Content-Type-Options", "nosniff")
	c.Header("Content-Security-Policy", simPageCSP)
	c.Data(http.StatusOK, ctype, data)
}
