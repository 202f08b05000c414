package sim

// The event queue is a binary min-heap ordered by (at, seq). Events live in a
// slab of slots recycled through a free list, and the heap holds slot indices,
// so scheduling and firing allocate nothing in steady state and a Timer can
// be cancelled in O(log n) by removing its slot from the heap.

type slot struct {
	at     Time
	seq    uint64
	fn     func()
	dir    *direction // a network delivery event: deliverNext(dir), no closure
	pos    int32      // index in heap, -1 when not queued
	gen    uint32     // bumped each time the slot is freed, invalidating old Timers
	next   int32      // free-list link
	daemon bool
}

type queue struct {
	slots []slot
	heap  []int32
	free  int32 // head of the free list, -1 when empty
	seq   uint64
}

// queueCap is the queue's first capacity, about what a scenario's world
// keeps pending, so a world does not grow its slab from one slot.
const queueCap = 48

func newQueue() queue {
	return queue{free: -1, slots: make([]slot, 0, queueCap), heap: make([]int32, 0, queueCap)}
}

func (q *queue) less(a, b int32) bool {
	sa, sb := &q.slots[a], &q.slots[b]
	if sa.at != sb.at {
		return sa.at < sb.at
	}
	return sa.seq < sb.seq
}

func (q *queue) swap(i, j int) {
	h := q.heap
	h[i], h[j] = h[j], h[i]
	q.slots[h[i]].pos = int32(i)
	q.slots[h[j]].pos = int32(j)
}

func (q *queue) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !q.less(q.heap[i], q.heap[p]) {
			return
		}
		q.swap(i, p)
		i = p
	}
}

func (q *queue) down(i int) {
	n := len(q.heap)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && q.less(q.heap[r], q.heap[l]) {
			m = r
		}
		if !q.less(q.heap[m], q.heap[i]) {
			return
		}
		q.swap(i, m)
		i = m
	}
}

// push queues fn (or, when fn is nil, the delivery of dir's next frame) at
// time at and returns its slot and generation.
func (q *queue) push(at Time, fn func(), dir *direction) (int32, uint32) {
	var s int32
	if q.free >= 0 {
		s = q.free
		q.free = q.slots[s].next
	} else {
		q.slots = append(q.slots, slot{})
		s = int32(len(q.slots) - 1)
	}
	q.seq++
	sl := &q.slots[s]
	sl.at, sl.seq, sl.fn, sl.dir = at, q.seq, fn, dir
	sl.pos = int32(len(q.heap))
	q.heap = append(q.heap, s)
	q.up(len(q.heap) - 1)
	return s, sl.gen
}

// remove takes the slot at heap position i out of the heap and frees it,
// returning its function or its direction.
func (q *queue) remove(i int) (func(), *direction) {
	s := q.heap[i]
	last := len(q.heap) - 1
	if i != last {
		q.swap(i, last)
	}
	q.heap = q.heap[:last]
	if i != last {
		q.down(i)
		q.up(i)
	}
	sl := &q.slots[s]
	fn, dir := sl.fn, sl.dir
	sl.fn, sl.dir, sl.pos = nil, nil, -1
	sl.gen++
	sl.next = q.free
	q.free = s
	return fn, dir
}

func (q *queue) len() int { return len(q.heap) }

// peek returns the time of the earliest event; ok is false when empty.
func (q *queue) peek() (Time, bool) {
	if len(q.heap) == 0 {
		return 0, false
	}
	return q.slots[q.heap[0]].at, true
}
