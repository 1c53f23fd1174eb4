package broadcast

// ring is a bounded FIFO that overwrites its oldest element when full. It
// grows to its capacity on demand, so an idle match costs nothing.
type ring[T any] struct {
	buf   []T
	start int // index of the oldest element once the buffer is full
}

// push appends v, dropping the oldest element when the ring already holds
// max elements.
func (r *ring[T]) push(v T, max int) {
	if len(r.buf) < max {
		r.buf = append(r.buf, v)
		return
	}
	r.buf[r.start] = v
	r.start = (r.start + 1) % len(r.buf)
}

// len is the number of elements held.
func (r *ring[T]) len() int { return len(r.buf) }

// at returns the i-th oldest element, 0 <= i < len.
func (r *ring[T]) at(i int) T {
	return r.buf[(r.start+i)%len(r.buf)]
}

// slice returns a new slice holding elements i..j-1 (oldest first),
// 0 <= i <= j <= len.
func (r *ring[T]) slice(i, j int) []T {
	out := make([]T, 0, j-i)
	for k := i; k < j; k++ {
		out = append(out, r.at(k))
	}
	return out
}
