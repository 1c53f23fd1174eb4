package stats

// chunkSize is how many log entries one stored value holds (see
// plugins/internal/eventlog): stats logs each applied event stripped to
// what scoring reads, about 100 bytes a ball.
const chunkSize = 64
