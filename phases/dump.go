package phases

import (
	"fmt"
	"io"
)

// orderName names an Order for DUMP_HOOKS.
func orderName(o Order) string {
	switch o {
	case ReallyFirst:
		return "REALLY_FIRST"
	case First:
		return "FIRST"
	case Middle:
		return "MIDDLE"
	case Last:
		return "LAST"
	case ReallyLast:
		return "REALLY_LAST"
	}
	return fmt.Sprintf("%d", int(o))
}

// HookInfo describes one hook for DUMP_HOOKS.
type HookInfo struct {
	Name    string
	Kind    Kind
	Process string // where it runs: "master" or "child"
	Entries []EntryInfo
}

// EntryInfo describes one handler of a hook.
type EntryInfo struct {
	Origin string
	Order  Order
}

func describe[F any](h *Hook[F], process string) (HookInfo, error) {
	entries, err := h.Entries()
	if err != nil {
		return HookInfo{}, err
	}
	info := HookInfo{Name: h.Name, Kind: h.Kind, Process: process}
	for _, e := range entries {
		info.Entries = append(info.Entries, EntryInfo{Origin: e.Origin, Order: e.Order})
	}
	return info, nil
}

// Describe lists the server hooks in life-cycle order with their handlers
// in run order.
func (h *ServerHooks) Describe() ([]HookInfo, error) {
	var out []HookInfo
	add := func(info HookInfo, err error) error {
		if err == nil {
			out = append(out, info)
		}
		return err
	}
	for _, err := range []error{
		add(describe(h.PreConfig, "master")),
		add(describe(h.CheckConfig, "master")),
		add(describe(h.OpenLogs, "master")),
		add(describe(h.PostConfig, "master")),
		add(describe(h.ChildInit, "child")),
		add(describe(h.ChildExit, "child")),
		add(describe(h.Monitor, "master")),
		add(describe(h.Request.PreConnection, "child")),
		add(describe(h.Request.ProcessConnection, "child")),
		add(describe(h.Request.PostReadRequest, "child")),
		add(describe(h.Request.QuickHandler, "child")),
		add(describe(h.Request.TranslateName, "child")),
		add(describe(h.Request.MapToStorage, "child")),
		add(describe(h.Request.HeaderParser, "child")),
		add(describe(h.Request.AccessChecker, "child")),
		add(describe(h.Request.CheckUserID, "child")),
		add(describe(h.Request.AuthChecker, "child")),
		add(describe(h.Request.TypeChecker, "child")),
		add(describe(h.Request.Fixups, "child")),
		add(describe(h.Request.InsertFilter, "child")),
		add(describe(h.Request.Handler, "child")),
		add(describe(h.Request.LogTransaction, "child")),
		add(describe(h.Request.ModifyResponseHeaders, "child")),
		add(describe(h.Request.CustomResponse, "child")),
		add(describe(h.Request.StartServeRequest, "child")),
		add(describe(h.Request.StartSendFile, "child")),
		add(describe(h.Request.StaticGetPoststatFileMissing, "child")),
		add(describe(h.Request.StaticGetPoststatPreSend, "child")),
		add(describe(h.Request.BackendClientAssigned, "child")),
		add(describe(h.Request.BackendResponseReceived, "child")),
		add(describe(h.Request.EndProxyRequest, "child")),
	} {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// DumpHooks writes DUMP_HOOKS output: each phase with its kind and the
// process it runs in, then its handlers in run order with origin and order.
func DumpHooks(w io.Writer, infos []HookInfo) error {
	for _, h := range infos {
		if _, err := fmt.Fprintf(w, "%s (%s, runs in the %s)\n", h.Name, h.Kind, h.Process); err != nil {
			return err
		}
		for _, e := range h.Entries {
			if _, err := fmt.Fprintf(w, "    %-12s %s\n", orderName(e.Order), e.Origin); err != nil {
				return err
			}
		}
	}
	return nil
}
