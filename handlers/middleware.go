package handlers

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
)

// requestID gives every request an id, kept from X-Request-Id when sane:
// a random prefix of this process and a counter, so that no request pays
// for a system call.
func requestID() gin.HandlerFunc {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	prefix := hex.EncodeToString(b) + "-"
	var n atomic.Uint64
	return func(c *gin.Context) {
		id := c.GetHeader("X-Request-Id")
		if id == "" || len(id) > 64 {
			id = prefix + strconv.FormatUint(n.Add(1), 36)
		}
		c.Set("request_id", id)
		c.Header("X-Request-Id", id)
		c.Next()
	}
}

// accessLog logs method, path (never the query: it carries signatures),
// status, size and time. Bodies are never logged. Acknowledged callbacks,
// thousands a second at peak and counted in the metrics, log at debug.
func accessLog(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		level := slog.LevelInfo
		if c.Writer.Status() == http.StatusOK && c.Request.Method == http.MethodPost && c.Request.URL.Path == "/wecom/callback" {
			level = slog.LevelDebug
		}
		if !log.Enabled(c.Request.Context(), level) {
			return
		}
		log.LogAttrs(c.Request.Context(), level, "http",
			slog.String("request_id", c.GetString("request_id")),
			slog.String("method", c.Request.Method),
			slog.String("path", c.Request.URL.Path),
			slog.Int("status", c.Writer.Status()),
			slog.Int("bytes", c.Writer.Size()),
			slog.Duration("took", time.Since(start)),
		)
	}
}

// recovery turns a panic into a 500 and a log line without the request body.
func recovery(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if r := recover(); r != nil {
				log.Error("panic in handler", "request_id", c.GetString("request_id"), "path", c.Request.URL.Path, "panic", r)
				c.AbortWithStatus(http.StatusInternalServerError)
			}
		}()
		c.Next()
	}
}
