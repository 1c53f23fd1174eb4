package bus

import (
	"bufio"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// natsProxy sits between NATS clients and a server and can lose chosen
// protocol messages on the way, or cut every connection: what a client
// sees when the NATS node it talks through dies.
type natsProxy struct {
	t      testing.TB
	target string
	ln     net.Listener

	mu    sync.Mutex
	conns []net.Conn
	// up decides whether a client's PUB/HPUB to subject is swallowed.
	up func(subject string) bool
	// down decides whether a MSG/HMSG to the client is swallowed.
	down func(subject, reply string) bool
}

func newNATSProxy(t testing.TB, target string) *natsProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("proxy listen: %v", err)
	}
	p := &natsProxy{t: t, target: strings.TrimPrefix(target, "nats://"), ln: ln}
	t.Cleanup(func() {
		ln.Close()
		p.cut()
	})
	go p.accept()
	return p
}

func (p *natsProxy) url() string { return "nats://" + p.ln.Addr().String() }

// cut closes every connection through the proxy; clients reconnect.
func (p *natsProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// setUp and setDown install the rules (nil passes everything).
func (p *natsProxy) setUp(f func(subject string) bool) {
	p.mu.Lock()
	p.up = f
	p.mu.Unlock()
}

func (p *natsProxy) setDown(f func(subject, reply string) bool) {
	p.mu.Lock()
	p.down = f
	p.mu.Unlock()
}

func (p *natsProxy) swallowUp(subject string) bool {
	p.mu.Lock()
	f := p.up
	p.mu.Unlock()
	return f != nil && f(subject)
}

func (p *natsProxy) swallowDown(subject, reply string) bool {
	p.mu.Lock()
	f := p.down
	p.mu.Unlock()
	return f != nil && f(subject, reply)
}

func (p *natsProxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, s)
		p.mu.Unlock()
		go p.pipe(c, s, true)
		go p.pipe(s, c, false)
	}
}

// pipe copies NATS protocol frames from src to dst, dropping those the
// rules swallow. Client frames carrying a payload are PUB and HPUB; server
// ones are MSG and HMSG. The payload size is the last field of the line.
func (p *natsProxy) pipe(src, dst net.Conn, fromClient bool) {
	defer src.Close()
	defer dst.Close()
	r := bufio.NewReaderSize(src, 64<<10)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		f := strings.Fields(line)
		var payload []byte
		drop := false
		if len(f) > 0 {
			op := strings.ToUpper(f[0])
			if op == "PUB" || op == "HPUB" || op == "MSG" || op == "HMSG" {
				n, err := strconv.Atoi(f[len(f)-1])
				if err != nil {
					p.t.Errorf("proxy: bad frame %q", line)
					return
				}
				payload = make([]byte, n+2)
				if _, err := io.ReadFull(r, payload); err != nil {
					return
				}
				switch {
				case op == "PUB" || op == "HPUB":
					drop = p.swallowUp(f[1])
				case op == "MSG" && len(f) == 5, op == "HMSG" && len(f) == 6:
					drop = p.swallowDown(f[1], f[3])
				default:
					drop = p.swallowDown(f[1], "")
				}
			}
		}
		if drop {
			continue
		}
		if _, err := dst.Write(append([]byte(line), payload...)); err != nil {
			return
		}
	}
}

// ackSeqs parses a JetStream delivery's reply subject (both the short and
// the domain form) into its stream and delivery count.
func ackSeqs(reply string) (stream string, sseq, delivered uint64, ok bool) {
	t := strings.Split(reply, ".")
	if len(t) < 9 || t[0] != "$JS" || t[1] != "ACK" {
		return "", 0, 0, false
	}
	if len(t) >= 12 {
		t = t[2:] // domain and account hash
	}
	d, err1 := strconv.ParseUint(t[4], 10, 64)
	s, err2 := strconv.ParseUint(t[5], 10, 64)
	return t[2], s, d, err1 == nil && err2 == nil
}
