// Package handlers is gridbot's HTTP surface on Gin: the WeCom callback,
// health, metrics and the simulator's endpoints. Handlers are thin: they
// decode, call one thing, and answer. Every route is in this file.
package handlers

import (
	"context"
	"log/slog"
	"net/http"

	"gridbot/bot"
	"gridbot/bot/wecom"

	"github.com/gin-gonic/gin"
)

// Server holds what the handlers need.
type Server struct {
	Receiver *wecom.Receiver // opens POST callbacks
	Crypto   *wecom.Crypto   // answers the GET verification
	Inbox    bot.Inbox       // where acknowledged callbacks are committed
	Accepted func()          // called after a new callback commits (wakes the processor)
	Ping     func(ctx context.Context) error
	Metrics  *Metrics
	Log      *slog.Logger
	Clock    bot.Clock

	// API, when set, serves the cases.
	API *API

	// Reports, when set with API, serves the ledgers and the assessment
	// behind the API's token.
	Reports *Reports

	// Sim, when set, mounts the simulated WeCom: its API under /wecomfake
	// and the simulator's endpoints under /sim.
	Sim *Sim
}

// MaxCallbackBody caps a callback body; WeCom's are a few KiB.
const MaxCallbackBody = 64 << 10

// Routes returns the Gin engine with every route of gridbot.
func (s *Server) Routes() *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.Use(requestID(), accessLog(s.Log), recovery(s.Log))

	r.GET("/wecom/callback", s.verifyURL)
	r.POST("/wecom/callback", s.receive)
	r.GET("/healthz", s.healthz)
	r.GET("/metrics", gin.WrapH(s.Metrics.Handler()))

	if s.API != nil {
		api := r.Group("/api", s.API.auth)
		api.GET("/cases", s.API.listCases)
		api.GET("/cases/:id", s.API.getCase)
		api.GET("/cases/:id/photos/:file", s.API.photo)
		if s.Reports != nil {
			api.GET("/export/:file", s.Reports.export)
			api.GET("/assessment", s.Reports.assessment)
		}
	}
	if s.Sim != nil {
		r.Any("/wecomfake/*path", gin.WrapH(http.StripPrefix("/wecomfake", s.Sim.Fake.Handler())))
		r.GET("/sim", func(c *gin.Context) { c.Redirect(http.StatusMovedPermanently, "/sim/") })
		r.GET("/sim/", s.Sim.page)
		r.GET("/sim/assets/*file", s.Sim.asset)
		r.GET("/sim/api/users", s.Sim.users)
		r.GET("/sim/api/map", s.Sim.mapData)
		r.GET("/sim/api/messages", gin.WrapH(s.Sim.Fake.MessagesHandler()))
		r.GET("/sim/api/groups", s.Sim.groups)
		r.GET("/sim/api/sent", s.Sim.sentLog)
		r.GET("/sim/api/media/:id", s.Sim.media)
		r.GET("/sim/api/stream", s.Sim.stream)
		r.POST("/sim/api/send", sameOrigin, s.Sim.send)
		r.POST("/sim/api/click", sameOrigin, s.Sim.click)
		r.POST("/sim/api/demo", sameOrigin, s.Sim.startDemo)
		r.GET("/sim/api/demo", s.Sim.demoStatus)
	}
	r.NoRoute(func(c *gin.Context) { writeError(c, bot.Errorf(bot.ENOTFOUND, "no such page")) })
	return r
}
