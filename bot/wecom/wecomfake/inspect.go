package wecomfake

// Seq returns the sequence number of the newest recorded request (0 when
// none): a cheap way to tell whether anything happened since a caller last
// looked, for example inside Wait.
func (f *Fake) Seq() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.seq
}

// Media returns a copy of the media file id (uploaded by the app or added
// with AddMedia) and its content type, as media/get would serve it, but
// without a token and regardless of its age — the simulator shows photos
// with it.
func (f *Fake) Media(id string) (data []byte, contentType string, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m, ok := f.media[id]
	if !ok {
		return nil, "", false
	}
	return append([]byte(nil), m.data...), m.contentType, true
}
