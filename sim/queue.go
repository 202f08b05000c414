package sim

// The event queue is a binary min-heap ordered by (at, seq). Each heap entry
// carries its key inline, so sifting compares entries without chasing them
// into the slab. Events live in a slab of slots recycled through a free
// list, so scheduling and firing allocate nothing in steady state, and a
// slot knows its heap position, so a Timer is cancelled in O(log n) by
// removing its entry from the heap.

type slot struct {
	at     Time       // the event's time, for Timer.When
	fn     func()     // the event, or nil for a delivery
	dir    *direction // a network delivery event: deliverNext(dir), no closure
	pos    int32      // index in heap, -1 when not queued
	gen    uint32     // bumped each time the slot is freed, invalidating old Timers
	next   int32      // free-list link
	daemon bool
}

// entry is one heap element: its event's key and slot.
type entry struct {
	at   Time
	seq  uint64
	slot int32
}

func (a *entry) less(b *entry) bool {
	if a.at != b.at {
		return a.at < b.at
	}
	return a.seq < b.seq
}

type queue struct {
	slots []slot
	heap  []entry
	free  int32 // head of the free list, -1 when empty
	seq   uint64
}

// queueCap is the queue's first capacity, about what a scenario's world
// keeps pending, so a world does not grow its slab from one slot.
const queueCap = 48

func newQueue() queue {
	return queue{free: -1, slots: make([]slot, 0, queueCap), heap: make([]entry, 0, queueCap)}
}

// up places e, bound for the hole at i, on the path towards the root. Each
// entry that moves tells its slot its new position. (The loops work on
// local copies of the slices, which the compiler keeps in registers.)
func (q *queue) up(i int, e entry) {
	h, slots := q.heap, q.slots
	for i > 0 {
		p := (i - 1) / 2
		if !e.less(&h[p]) {
			break
		}
		h[i] = h[p]
		slots[h[i].slot].pos = int32(i)
		i = p
	}
	h[i] = e
	slots[e.slot].pos = int32(i)
}

// down places e, bound for the hole at i, on the path towards the leaves.
func (q *queue) down(i int, e entry) {
	h, slots := q.heap, q.slots
	n := len(h)
	for {
		c := 2*i + 1
		if c >= n {
			break
		}
		if r := c + 1; r < n && h[r].less(&h[c]) {
			c = r
		}
		if !h[c].less(&e) {
			break
		}
		h[i] = h[c]
		slots[h[i].slot].pos = int32(i)
		i = c
	}
	h[i] = e
	slots[e.slot].pos = int32(i)
}

// push queues fn (or, when fn is nil, the delivery of dir's next frame) at
// time at and returns its slot and generation.
func (q *queue) push(at Time, fn func(), dir *direction, daemon bool) (int32, uint32) {
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
	sl.at, sl.fn, sl.dir, sl.daemon = at, fn, dir, daemon
	q.heap = append(q.heap, entry{})
	q.up(len(q.heap)-1, entry{at: at, seq: q.seq, slot: s})
	return s, sl.gen
}

// remove takes the entry at heap position i out of the heap and frees its
// slot, returning the slot's time, function or direction, and daemon flag.
func (q *queue) remove(i int) (at Time, fn func(), dir *direction, daemon bool) {
	h := q.heap
	s := h[i].slot
	last := len(h) - 1
	e := h[last]
	q.heap = h[:last]
	switch {
	case i == last:
	case i == 0:
		// The earliest event: walk the hole at the root down to a leaf
		// along the earlier children (one comparison a level), then place
		// the last entry from there, which rarely moves it up far.
		n, slots := last, q.slots
		for {
			c := 2*i + 1
			if c >= n {
				break
			}
			if r := c + 1; r < n && h[r].less(&h[c]) {
				c = r
			}
			h[i] = h[c]
			slots[h[i].slot].pos = int32(i)
			i = c
		}
		q.up(i, e)
	case e.less(&h[(i-1)/2]):
		q.up(i, e)
	default:
		q.down(i, e)
	}
	sl := &q.slots[s]
	at, fn, dir, daemon = sl.at, sl.fn, sl.dir, sl.daemon
	sl.fn, sl.dir, sl.pos = nil, nil, -1
	sl.gen++
	sl.next = q.free
	q.free = s
	return at, fn, dir, daemon
}

func (q *queue) len() int { return len(q.heap) }

// peek returns the time of the earliest event; ok is false when empty.
func (q *queue) peek() (Time, bool) {
	if len(q.heap) == 0 {
		return 0, false
	}
	return q.heap[0].at, true
}
