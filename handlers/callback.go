package handlers

import (
	"errors"
	"io"
	"net/http"
	"time"

	"gridbot/bot"
	"gridbot/bot/wecom"

	"github.com/gin-gonic/gin"
)

// verifyURL answers WeCom's GET verification with the decrypted echostr,
// exactly: no quotes, no newline.
func (s *Server) verifyURL(c *gin.Context) {
	plain, err := s.Crypto.VerifyURL(c.Query("msg_signature"), c.Query("timestamp"), c.Query("nonce"), c.Query("echostr"))
	if err != nil {
		s.Metrics.Callback("verify_" + bot.ErrorCode(err))
		writeError(c, err)
		return
	}
	s.Metrics.Callback("verify_ok")
	c.Data(http.StatusOK, "text/plain; charset=utf-8", plain)
}

// receive takes a POST callback: it answers 200 only once the decrypted
// message is committed to the inbox; a retried delivery answers 200 and
// changes nothing; a store failure answers 500 so that WeCom retries.
func (s *Server) receive(c *gin.Context) {
	start := time.Now()
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, MaxCallbackBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			err = bot.Errorf(bot.ETOOLARGE, "body over %d bytes", MaxCallbackBody)
		} else {
			err = bot.Errorf(bot.EINVALID, "cannot read body")
		}
		s.reject(c, start, err)
		return
	}
	cb, err := s.Receiver.Open(wecom.Query{
		Signature: c.Query("msg_signature"), Timestamp: c.Query("timestamp"), Nonce: c.Query("nonce"),
	}, body)
	if err != nil {
		s.reject(c, start, err)
		return
	}
	inserted, err := s.Inbox.Put(c.Request.Context(), bot.InboxRow{
		DedupeKey:  cb.DedupeKey,
		Kind:       cb.Msg.Kind,
		UserID:     cb.Msg.UserID,
		Payload:    cb.Plain,
		ReceivedAt: s.Clock.Now(),
	})
	if err != nil {
		s.Log.Error("inbox commit failed", "request_id", c.GetString("request_id"), "err", err)
		s.Metrics.Ack("db_error", time.Since(start))
		c.AbortWithStatus(http.StatusInternalServerError)
		return
	}
	if !inserted {
		s.Metrics.Ack("duplicate", time.Since(start))
		c.Status(http.StatusOK)
		return
	}
	if cb.Msg.Kind == bot.KindUnknown {
		s.Log.Info("unknown callback kind acknowledged", "msg_type", cb.Msg.MsgType, "event", cb.Msg.Event)
		s.Metrics.Ack("unknown_kind", time.Since(start))
	} else {
		s.Metrics.Ack("ok", time.Since(start))
	}
	if s.Accepted != nil {
		s.Accepted()
	}
	c.Status(http.StatusOK)
}

func (s *Server) reject(c *gin.Context, start time.Time, err error) {
	s.Metrics.Ack(bot.ErrorCode(err), time.Since(start))
	s.Log.Warn("callback rejected", "request_id", c.GetString("request_id"), "reason", bot.ErrorMessage(err))
	writeError(c, err)
}

// healthz answers 200 when the store answers.
func (s *Server) healthz(c *gin.Context) {
	if err := s.Ping(c.Request.Context()); err != nil {
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "unavailable", "error": "store does not answer"})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}
