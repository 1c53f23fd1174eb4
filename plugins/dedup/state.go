package dedup

// chunkSize is how many log entries one stored value holds (see
// plugins/internal/eventlog): dedup logs each passed event's ID and Seq,
// about 30 bytes an entry.
const chunkSize = 256
