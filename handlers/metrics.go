package handlers

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"gridbot/bot"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is gridbot's Prometheus registry: callbacks by result and their
// ack latency, inbox lag, outbox depth by state, worker results, and WeCom
// calls by errcode. It also serves as the workers' bot.Observer.
type Metrics struct {
	reg       *prometheus.Registry
	callbacks *prometheus.CounterVec
	ackTime   *prometheus.HistogramVec
	wecom     *prometheus.CounterVec
	inboxDone *prometheus.CounterVec
	outDone   *prometheus.CounterVec
}

// NewMetrics registers every metric. inbox and outbox are read on scrape.
func NewMetrics(inbox bot.Inbox, outbox bot.Outbox) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		callbacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gridbot_callbacks_total", Help: "WeCom callbacks by result.",
		}, []string{"result"}),
		ackTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "gridbot_callback_ack_seconds", Help: "Time from request to answer of POST callbacks.",
			Buckets: []float64{.001, .002, .005, .01, .02, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"result"}),
		wecom: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gridbot_wecom_calls_total", Help: "WeCom API calls by API and errcode (-1: network failure; HTTP status when not 200).",
		}, []string{"api", "errcode"}),
		inboxDone: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gridbot_inbox_processed_total", Help: "Inbox rows processed by kind and result.",
		}, []string{"kind", "result"}),
		outDone: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gridbot_outbox_attempts_total", Help: "Outbox attempts by kind and result.",
		}, []string{"kind", "result"}),
	}
	m.reg.MustRegister(m.callbacks, m.ackTime, m.wecom, m.inboxDone, m.outDone,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		&queueCollector{inbox: inbox, outbox: outbox})
	return m
}

// Handler serves /metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// Callback counts a callback outcome that has no latency of interest.
func (m *Metrics) Callback(result string) { m.callbacks.WithLabelValues(result).Inc() }

// Ack counts a POST callback and its time to answer.
func (m *Metrics) Ack(result string, took time.Duration) {
	m.callbacks.WithLabelValues(result).Inc()
	m.ackTime.WithLabelValues(result).Observe(took.Seconds())
}

// WeComCall counts one WeCom API call.
func (m *Metrics) WeComCall(api string, errcode int) {
	m.wecom.WithLabelValues(api, strconv.Itoa(errcode)).Inc()
}

// InboxDone implements bot.Observer.
func (m *Metrics) InboxDone(kind bot.Kind, result string) {
	m.inboxDone.WithLabelValues(string(kind), result).Inc()
}

// OutboxDone implements bot.Observer.
func (m *Metrics) OutboxDone(kind bot.OutKind, result string) {
	m.outDone.WithLabelValues(string(kind), result).Inc()
}

// queueCollector reads the inbox and outbox on every scrape.
type queueCollector struct {
	inbox  bot.Inbox
	outbox bot.Outbox
}

var (
	inboxRowsDesc = prometheus.NewDesc("gridbot_inbox_rows", "Inbox rows by state.", []string{"state"}, nil)
	inboxLagDesc  = prometheus.NewDesc("gridbot_inbox_lag_seconds", "Age of the oldest unprocessed inbox row.", nil, nil)
	outboxDesc    = prometheus.NewDesc("gridbot_outbox_items", "Outbox items by state (dead = dead letters).", []string{"state"}, nil)
)

func (q *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- inboxRowsDesc
	ch <- inboxLagDesc
	ch <- outboxDesc
}

func (q *queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if st, err := q.inbox.Stats(ctx); err == nil {
		for _, s := range []string{bot.InNew, bot.InWorking, bot.InDone, bot.InDead} {
			ch <- prometheus.MustNewConstMetric(inboxRowsDesc, prometheus.GaugeValue, float64(st.ByState[s]), s)
		}
		ch <- prometheus.MustNewConstMetric(inboxLagDesc, prometheus.GaugeValue, st.OldestUndone.Seconds())
	}
	if d, err := q.outbox.Depth(ctx); err == nil {
		for _, s := range []string{bot.OutPending, bot.OutSending, bot.OutSent, bot.OutDead} {
			ch <- prometheus.MustNewConstMetric(outboxDesc, prometheus.GaugeValue, float64(d[s]), s)
		}
	}
}
