package phases

import (
	"os"
	"sync"
)

// Files are the files a generation's open_logs opened (error log, access
// logs, piped loggers' pipes) that its children write to. Apache's children
// inherit them by fork; ours get them as inherited descriptors, so a child
// never reopens a log (it may run as another user, and rotation stays the
// master's business).
type Files struct {
	mu        sync.Mutex
	inherited map[string]*os.File
	opened    []NamedFile
}

// NamedFile is one inheritable file and the key it is known by in both
// processes ("file:/var/log/x", "pipe:rotatelogs ...").
type NamedFile struct {
	Key  string
	File *os.File
}

// NewFiles returns the file set of a generation run in this process.
func NewFiles() *Files { return &Files{} }

// InheritedFiles returns a child's file set: the files the master handed
// down, by key.
func InheritedFiles(files []NamedFile) *Files {
	f := &Files{inherited: map[string]*os.File{}}
	for _, nf := range files {
		f.inherited[nf.Key] = nf.File
	}
	return f
}

// Open returns the file known as key. In a child it is the master's file;
// elsewhere open is called and the file is recorded for the children. A
// child asking for a key the master did not open opens it itself.
func (f *Files) Open(key string, open func() (*os.File, error)) (*os.File, error) {
	if f == nil {
		return open()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if file, ok := f.inherited[key]; ok {
		return file, nil
	}
	file, err := open()
	if err != nil {
		return nil, err
	}
	f.opened = append(f.opened, NamedFile{Key: key, File: file})
	return file, nil
}

// Opened lists the files opened through Open in this process, in order.
func (f *Files) Opened() []NamedFile {
	if f == nil {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]NamedFile(nil), f.opened...)
}
