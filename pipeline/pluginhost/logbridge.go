package pluginhost

import (
	"bytes"
	"encoding/json"
	"sync"

	"github.com/hashicorp/go-hclog"
	"github.com/rs/zerolog"
)

// logBridge receives go-plugin's hclog output (JSON lines, including the
// plugin's own stderr) and re-emits it through zerolog, tagged with the
// stage and plugin. It also remembers why the plugin process last exited.
type logBridge struct {
	log zerolog.Logger

	mu      sync.Mutex
	buf     []byte
	exitErr string
	exited  chan struct{} // closed when go-plugin reports the process exited
}

func newLogBridge(log zerolog.Logger) (*logBridge, hclog.Logger) {
	b := &logBridge{log: log, exited: make(chan struct{})}
	return b, hclog.New(&hclog.LoggerOptions{
		Name:       "plugin",
		Output:     b,
		JSONFormat: true,
		Level:      hclog.Debug,
	})
}

// Write implements io.Writer for hclog.
func (b *logBridge) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	for {
		i := bytes.IndexByte(b.buf, '\n')
		if i < 0 {
			break
		}
		b.line(b.buf[:i])
		b.buf = b.buf[i+1:]
	}
	return len(p), nil
}

func (b *logBridge) line(l []byte) {
	var rec map[string]any
	if err := json.Unmarshal(l, &rec); err != nil {
		b.log.Debug().Str("line", string(l)).Msg("plugin output")
		return
	}
	msg, _ := rec["@message"].(string)
	level, _ := rec["@level"].(string)
	delete(rec, "@message")
	delete(rec, "@level")
	delete(rec, "@timestamp")
	delete(rec, "@caller")
	if msg == "plugin process exited" {
		if e, ok := rec["error"].(string); ok {
			b.exitErr = e
		} else {
			b.exitErr = "exit status 0"
		}
		select {
		case <-b.exited:
		default:
			close(b.exited)
		}
	}
	var ev *zerolog.Event
	switch level {
	case "error":
		ev = b.log.Error()
	case "warn":
		ev = b.log.Warn()
	case "info":
		ev = b.log.Info()
	default:
		ev = b.log.Debug()
	}
	ev.Fields(rec).Msg(msg)
}

// exit returns why the plugin process last exited, "" if it has not.
func (b *logBridge) exit() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.exitErr
}
