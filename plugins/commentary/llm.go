package commentary

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	openai "github.com/sashabaranov/go-openai"
)

const (
	// maxReplyBytes caps what is read of one reply on the wire; go-openai
	// would otherwise read a body of any size.
	maxReplyBytes = 64 << 10
	// maxLineRunes caps the length of a line from the LLM.
	maxLineRunes = 280
)

// Fallback reasons, the Commentary.reason values. They are short fixed
// strings (plus an HTTP status) so they can be counted; they never carry
// server text.
const (
	reasonTimeout    = "timeout"
	reasonCanceled   = "canceled"
	reasonRequest    = "request failed"
	reasonAPIError   = "api error"
	reasonBadReply   = "bad response"
	reasonTooLarge   = "reply too large"
	reasonNoChoices  = "no choices"
	reasonEmpty      = "empty reply"
	reasonGarbage    = "garbage reply"
	reasonTooLong    = "too long"
	reasonTruncated  = "truncated"
	reasonFiltered   = "content filter"
	reasonIncomplete = "stream incomplete"
	reasonRepeat     = "repeat"
	reasonSkipped    = "llm unavailable"
	reasonBudget     = "budget"
)

// fallbackError carries the reason an LLM reply was not used.
type fallbackError string

func (e fallbackError) Error() string { return "commentary: llm: " + string(e) }

var errTooLarge = errors.New("commentary: llm reply larger than 64 KiB")

// llm writes lines with an OpenAI-compatible chat completions endpoint.
type llm struct {
	client      *openai.Client
	model       string
	stream      bool
	maxTokens   int
	temperature float32
	timeout     time.Duration
	retries     int
	language    string // BCP 47 tag
	persona     string // the persona's description
	sem         chan struct{}

	mu      sync.Mutex // guards breaker; never held during a request
	breaker breaker
}

// breaker stops asking a failing service for a while: after breakerTrip
// failures in a row (timeouts, connection errors, 429 and 5xx, after
// retries) the next skip events go straight to the template; the skip
// doubles, up to breakerMaxSkip, while the service keeps failing. It counts
// events, not time, so a replay behaves the same at any speed.
type breaker struct {
	fails int // service failures in a row
	skip  int // events still to skip
	next  int // events to skip at the next trip
}

const (
	breakerTrip    = 3
	breakerMinSkip = 8
	breakerMaxSkip = 128
)

// allow reports whether to ask the service for this event.
func (b *breaker) allow() bool {
	if b.skip > 0 {
		b.skip--
		return false
	}
	return true
}

// record notes the outcome of a request.
func (b *breaker) record(reason string) {
	if !serviceFailure(reason) {
		b.fails, b.next = 0, 0
		return
	}
	b.fails++
	if b.fails < breakerTrip {
		return
	}
	b.next = min(max(b.next*2, breakerMinSkip), breakerMaxSkip)
	b.skip, b.fails = b.next, breakerTrip-1 // one more failure after the pause trips again
}

// serviceFailure reports reasons that say the service is down or overloaded,
// as opposed to a usable service giving an unusable reply.
func serviceFailure(reason string) bool {
	switch {
	case reason == reasonTimeout, reason == reasonRequest, reason == "http 429":
		return true
	case strings.HasPrefix(reason, "http 5"):
		return true
	}
	return false
}

// retryable reports the failures worth another attempt: 429 and 5xx.
func retryable(reason string) bool {
	return reason == "http 429" || strings.HasPrefix(reason, "http 5")
}

func newLLM(cfg Config, key string) *llm {
	oc := openai.DefaultConfig(key)
	oc.BaseURL = DefaultBaseURL
	if cfg.LLM.BaseURL != "" {
		oc.BaseURL = strings.TrimRight(cfg.LLM.BaseURL, "/")
	}
	if cfg.LLM.APIType == "azure" {
		oc = openai.DefaultAzureConfig(key, strings.TrimRight(cfg.LLM.BaseURL, "/"))
		oc.APIVersion = cfg.LLM.APIVersion
		oc.AzureModelMapperFunc = func(model string) string { return model } // the model is the deployment
	}
	// No client timeout: the per-request context deadline bounds each call.
	oc.HTTPClient = cappedClient{c: &http.Client{}, max: maxReplyBytes}
	return &llm{
		client:      openai.NewClientWithConfig(oc),
		model:       cfg.LLM.Model,
		stream:      cfg.LLM.Stream,
		maxTokens:   cfg.LLM.MaxTokens,
		temperature: float32(*cfg.LLM.Temperature),
		timeout:     time.Duration(cfg.LLM.Timeout),
		retries:     *cfg.LLM.Retries,
		language:    cfg.Language,
		persona:     cfg.personaPrompt(),
		sem:         make(chan struct{}, cfg.LLM.MaxConcurrency),
	}
}

// answer is the outcome of one generate call.
type answer struct {
	text, model string
	reason      string // "" when text is usable
	tokens      int    // prompt + completion tokens spent, reported or estimated
	attempts    int    // requests sent
}

// request is what generate asks for one event.
type request struct {
	facts     []string // facts.list
	reference string   // the template line, given to the model as a plain reference
	// onDelta, when not nil, receives each piece of streamed text as it
	// arrives (streaming partial commentary to frontends).
	onDelta func(string)
}

// generate asks the model for a line. On success answer.reason is empty;
// otherwise it says why the template line must stand in. It is safe for
// concurrent use; at most llm.max_concurrency requests are in flight.
func (l *llm) generate(ctx context.Context, r request) answer {
	l.mu.Lock()
	allow := l.breaker.allow()
	l.mu.Unlock()
	if !allow {
		return answer{reason: reasonSkipped}
	}
	select {
	case l.sem <- struct{}{}:
	case <-ctx.Done():
		return answer{reason: reasonFor(ctx, ctx.Err())}
	}
	a := l.ask(ctx, r)
	<-l.sem
	l.mu.Lock()
	l.breaker.record(a.reason)
	l.mu.Unlock()
	return a
}

// deadlineMargin is kept free before the caller's own deadline, so the
// template line can still be returned in time.
const deadlineMargin = 100 * time.Millisecond

// Retry timing: backoff doubles from retryBase with ±25% jitter; a
// Retry-After longer than maxRetryAfter, or past the deadline, is not
// waited for.
const (
	retryBase     = 100 * time.Millisecond
	maxRetryAfter = 2 * time.Second
)

// ask sends the request, retrying 429 and 5xx answers while the deadline
// (llm.timeout, and the caller's less deadlineMargin) leaves room.
func (l *llm) ask(ctx context.Context, r request) answer {
	deadline := time.Now().Add(l.timeout)
	if d, ok := ctx.Deadline(); ok && d.Add(-deadlineMargin).Before(deadline) {
		deadline = d.Add(-deadlineMargin)
	}
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	system, user := l.systemPrompt(), userPrompt(r.facts, r.reference)
	req := openai.ChatCompletionRequest{
		Model: l.model,
		Messages: []openai.ChatCompletionMessage{
			{Role: openai.ChatMessageRoleSystem, Content: system},
			{Role: openai.ChatMessageRoleUser, Content: user},
		},
		//lint:ignore SA1019 max_tokens is what OpenAI-compatible servers (vLLM, llama.cpp, Ollama) accept; max_completion_tokens is not universal
		MaxTokens:   l.maxTokens,
		Temperature: l.temperature,
	}
	promptTokens := estimateTokens(system) + estimateTokens(user)
	var a answer
	for attempt := 0; ; attempt++ {
		a.attempts++
		info := &replyInfo{}
		actx := context.WithValue(ctx, replyInfoKey{}, info)
		var (
			raw, finish string
			use         *openai.Usage
			emitted     bool
			err         error
		)
		if l.stream {
			raw, a.model, finish, use, emitted, err = l.streamed(actx, req, r.onDelta)
		} else {
			raw, a.model, finish, use, err = l.unary(actx, req)
		}
		switch {
		case use != nil && use.TotalTokens > 0:
			a.tokens += use.TotalTokens
		case use != nil && use.PromptTokens+use.CompletionTokens > 0:
			a.tokens += use.PromptTokens + use.CompletionTokens
		case info.status() == http.StatusOK || errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil:
			// The model worked on it (or may have): estimate.
			a.tokens += promptTokens + estimateTokens(raw)
		}
		if err == nil {
			a.text, a.reason = l.accept(raw, finish, r)
			if a.reason == "" && a.model == "" {
				a.model = l.model
			}
			return a
		}
		a.reason = reasonFor(ctx, err)
		if !retryable(a.reason) || attempt >= l.retries || emitted {
			return a
		}
		wait := backoff(attempt)
		if ra := info.retryAfter(); ra > 0 {
			if ra > maxRetryAfter {
				return a
			}
			wait = ra
		}
		if time.Now().Add(wait).After(deadline) {
			return a
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return a
		}
	}
}

// accept checks a complete reply: its finish reason, its shape, its
// grounding. It returns the line, or the reason it is not used.
func (l *llm) accept(raw, finish string, r request) (string, string) {
	switch openai.FinishReason(finish) {
	case openai.FinishReasonLength:
		return "", reasonTruncated
	case openai.FinishReasonContentFilter:
		return "", reasonFiltered
	}
	text, reason := cleanReply(raw)
	if reason != "" {
		return "", reason
	}
	if reason := newGround(r.facts, r.reference).check(text); reason != "" {
		return "", reason
	}
	return text, ""
}

// backoff is the wait before retry attempt+1: 100 ms, 200 ms, 400 ms, ...
// with ±25% jitter.
func backoff(attempt int) time.Duration {
	d := retryBase << min(attempt, 6)
	return time.Duration(float64(d) * (0.75 + rand.Float64()/2))
}

// estimateTokens guesses the tokens of s when the server reports none:
// about four bytes of UTF-8 a token.
func estimateTokens(s string) int { return (len(s) + 3) / 4 }

func (l *llm) unary(ctx context.Context, req openai.ChatCompletionRequest) (text, model, finish string, use *openai.Usage, err error) {
	resp, err := l.client.CreateChatCompletion(ctx, req)
	if err != nil {
		return "", "", "", nil, err
	}
	use = &resp.Usage
	if len(resp.Choices) == 0 {
		return "", "", "", use, fallbackError(reasonNoChoices)
	}
	c := resp.Choices[0]
	return c.Message.Content, resp.Model, string(c.FinishReason), use, nil
}

// streamed reads a streamed reply, passing each piece of text to onDelta
// as it arrives; emitted says whether any was passed (no retry then: the
// pieces are out). After the finish reason it reads on to the end of the
// stream for the usage chunk (stream_options.include_usage).
func (l *llm) streamed(ctx context.Context, req openai.ChatCompletionRequest, onDelta func(string)) (text, model, finish string, use *openai.Usage, emitted bool, err error) {
	req.Stream = true
	req.StreamOptions = &openai.StreamOptions{IncludeUsage: true}
	stream, err := l.client.CreateChatCompletionStream(ctx, req)
	if err != nil {
		return "", "", "", nil, false, err
	}
	defer stream.Close()
	var b strings.Builder
	for {
		chunk, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if finish != "" {
				break // the line is complete; only the usage is lost
			}
			return b.String(), model, "", use, emitted, err
		}
		if chunk.Model != "" {
			model = chunk.Model
		}
		if chunk.Usage != nil {
			use = chunk.Usage
		}
		if len(chunk.Choices) == 0 {
			continue // e.g. the usage chunk
		}
		c := chunk.Choices[0]
		if d := c.Delta.Content; d != "" && finish == "" {
			b.WriteString(d)
			if onDelta != nil {
				onDelta(d)
				emitted = true
			}
			if b.Len() > 4*maxLineRunes {
				return "", model, "", use, emitted, fallbackError(reasonTooLong)
			}
		}
		if c.FinishReason != "" && finish == "" {
			finish = string(c.FinishReason)
		}
	}
	if finish == "" {
		return b.String(), model, "", use, emitted, fallbackError(reasonIncomplete)
	}
	return b.String(), model, finish, use, emitted, nil
}

func (l *llm) systemPrompt() string {
	return fmt.Sprintf("You are %s, calling a live cricket match. Write exactly one line of commentary, at most 40 words, "+
		"in %s, about the event the facts describe. Use only the facts: player and team names exactly as the facts "+
		"write them (in Latin script, never translated or transliterated, no first names the facts do not give), and no "+
		"number that is not in the facts. Invent nothing else: no shot, delivery, fielding position, weather, crowd, "+
		"record or statistic that the facts do not state. No hashtags, emojis, quotation marks or labels. Reply with the line only.",
		l.persona, languageName(l.language))
}

func userPrompt(factList []string, templateLine string) string {
	var b strings.Builder
	b.WriteString("Facts:\n")
	for _, f := range factList {
		b.WriteString("- ")
		b.WriteString(f)
		b.WriteByte('\n')
	}
	b.WriteString("\nA plain line with the same facts, for reference: ")
	b.WriteString(templateLine)
	return b.String()
}

// replyInfo is what cappedClient saw of one HTTP response, for ask: the
// status and the Retry-After header, which go-openai does not expose.
type replyInfo struct {
	mu    sync.Mutex
	code  int
	after time.Duration
}

type replyInfoKey struct{}

func (ri *replyInfo) record(resp *http.Response) {
	ri.mu.Lock()
	defer ri.mu.Unlock()
	ri.code = resp.StatusCode
	ri.after, _ = parseRetryAfter(resp.Header, time.Now())
}

func (ri *replyInfo) status() int {
	ri.mu.Lock()
	defer ri.mu.Unlock()
	return ri.code
}

func (ri *replyInfo) retryAfter() time.Duration {
	ri.mu.Lock()
	defer ri.mu.Unlock()
	return ri.after
}

// parseRetryAfter reads retry-after-ms (OpenAI, Azure) or Retry-After in
// seconds or as an HTTP date.
func parseRetryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	if v := h.Get("Retry-After-Ms"); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms >= 0 {
			return time.Duration(ms * float64(time.Millisecond)), true
		}
	}
	v := h.Get("Retry-After")
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil && s >= 0 {
		return time.Duration(s * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// reasonFor maps a failed request to its fallback reason.
func reasonFor(ctx context.Context, err error) string {
	var fe fallbackError
	var ae *openai.APIError
	var re *openai.RequestError
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &fe):
		return string(fe)
	case errors.Is(err, errTooLarge):
		return reasonTooLarge
	case errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded):
		return reasonTimeout
	case errors.Is(err, context.Canceled):
		return reasonCanceled
	case errors.As(err, &ae) && ae.HTTPStatusCode > 0:
		return fmt.Sprintf("http %d", ae.HTTPStatusCode)
	case errors.As(err, &re) && re.HTTPStatusCode > 0:
		return fmt.Sprintf("http %d", re.HTTPStatusCode)
	case errors.As(err, &ae):
		return reasonAPIError
	case errors.As(err, &se), errors.As(err, &te), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, openai.ErrTooManyEmptyStreamMessages):
		return reasonBadReply
	}
	return reasonRequest
}

// cleanReply turns a reply into one line, or says why it is unusable.
func cleanReply(raw string) (string, string) {
	if !utf8.ValidString(raw) {
		return "", reasonGarbage
	}
	var line string
	for _, l := range strings.Split(raw, "\n") {
		if strings.TrimSpace(l) != "" {
			line = l
			break
		}
	}
	line = strings.Join(strings.Fields(line), " ")
	line = strings.Trim(line, "\"'`“”‘’ ")
	if line == "" {
		return "", reasonEmpty
	}
	letters := 0
	for _, r := range line {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return "", reasonGarbage
		}
		if unicode.IsLetter(r) {
			letters++
		}
	}
	if letters < 3 {
		return "", reasonGarbage
	}
	if utf8.RuneCountInString(line) > maxLineRunes {
		return "", reasonTooLong
	}
	return line, ""
}

// cappedClient is the HTTP client go-openai uses: it cuts every response
// body off at max bytes, and notes each response's status and Retry-After
// for the request's replyInfo.
type cappedClient struct {
	c   *http.Client
	max int64
}

func (d cappedClient) Do(req *http.Request) (*http.Response, error) {
	resp, err := d.c.Do(req)
	if err != nil {
		return nil, err
	}
	if ri, ok := req.Context().Value(replyInfoKey{}).(*replyInfo); ok {
		ri.record(resp)
	}
	resp.Body = &cappedBody{rc: resp.Body, left: d.max}
	return resp, nil
}

type cappedBody struct {
	rc   io.ReadCloser
	left int64
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if b.left <= 0 {
		var one [1]byte
		n, err := b.rc.Read(one[:])
		if n > 0 {
			return 0, errTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *cappedBody) Close() error { return b.rc.Close() }
