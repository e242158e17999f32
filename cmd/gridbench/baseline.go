package main

import (
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"gridbot/bot"
	"gridbot/bot/wecom"
)

// maxBody is gridbot's callback body cap (handlers.MaxCallbackBody).
const maxBody = 64 << 10

// baseline is the bare work of a callback on plain net/http: read the
// body, verify the signature, decrypt and parse with gridbot's crypto, and
// answer 200 — no store, no Gin, no metrics.
type baseline struct {
	recv *wecom.Receiver
}

func newBaseline(c config) (*baseline, error) {
	crypto, err := wecom.NewCrypto(c.Token, c.AESKey, c.CorpID)
	if err != nil {
		return nil, err
	}
	return &baseline{recv: &wecom.Receiver{Crypto: crypto, AgentID: strconv.Itoa(c.AgentID), Window: 5 * time.Minute}}, nil
}

// ServeHTTP answers POST /wecom/callback.
func (b *baseline) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/wecom/callback" {
		http.NotFound(w, r)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, "too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	q := r.URL.Query()
	if _, err := b.recv.Open(wecom.Query{Signature: q.Get("msg_signature"), Timestamp: q.Get("timestamp"), Nonce: q.Get("nonce")}, body); err != nil {
		status := http.StatusBadRequest
		if bot.ErrorCode(err) == bot.EUNAUTHORIZED {
			status = http.StatusForbidden
		}
		http.Error(w, bot.ErrorMessage(err), status)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// serve starts the baseline on a free loopback port; stop shuts it.
func (b *baseline) serve() (url string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: b, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String() + "/wecom/callback", func() { srv.Close() }, nil
}
