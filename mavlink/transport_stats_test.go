package mavlink

import (
	"errors"
	"testing"
	"time"

	"github.com/bluenviron/gomavlib/v3/pkg/dialects/ardupilotmega"
	"github.com/bluenviron/gomavlib/v3/pkg/dialects/common"

	"github.com/centinela-gcs/centinela/fleet"
)

func TestMessageNames(t *testing.T) {
	for _, c := range []struct {
		id   uint32
		want string
	}{
		{(&common.MessageHeartbeat{}).GetID(), "HEARTBEAT"},
		{(&common.MessageGlobalPositionInt{}).GetID(), "GLOBAL_POSITION_INT"},
		{(&common.MessageSysStatus{}).GetID(), "SYS_STATUS"},
		{(&common.MessageGps2Raw{}).GetID(), "GPS2_RAW"},
		{(&common.MessageScaledImu2{}).GetID(), "SCALED_IMU2"},
		{(&common.MessageMissionItemInt{}).GetID(), "MISSION_ITEM_INT"},
		{(&ardupilotmega.MessageEkfStatusReport{}).GetID(), "EKF_STATUS_REPORT"},
	} {
		i, ok := msgIndex[c.id]
		if !ok || msgNames[i] != c.want {
			t.Errorf("message %d: got %q, want %q", c.id, msgNames[i], c.want)
		}
		// The name is the one MessageID reads back.
		if id, ok := MessageID(c.want); !ok || id != c.id {
			t.Errorf("MessageID(%q) = %d, %v; want %d", c.want, id, ok, c.id)
		}
	}
}

func TestObserveOp(t *testing.T) {
	tr := &Transport{}
	ok := error(nil)
	denied := error(&fleet.Error{Code: fleet.Denied, Message: "no"})
	tr.observeOp("arm", time.Now().Add(-3*time.Millisecond), &ok)
	tr.observeOp("arm", time.Now().Add(-3*time.Second), &ok)
	tr.observeOp("arm", time.Now(), &denied)
	other := errors.New("boom")
	tr.observeOp("param_set", time.Now(), &other)
	ops := tr.Traffic().Operations
	if len(ops) != 3 {
		t.Fatalf("got %+v", ops)
	}
	// Sorted by op then result: arm/denied, arm/ok, param_set/internal.
	if ops[0].Result != "denied" || ops[1].Result != "ok" || ops[1].Count != 2 || ops[2].Result != "internal" {
		t.Fatalf("got %+v", ops)
	}
	b := ops[1].Buckets
	// 3 ms is above 2.5 ms and within 5 ms; 3 s within 5 s.
	if b[1] != 0 || b[2] != 1 || b[10] != 1 || b[11] != 2 || b[len(b)-1] != 2 {
		t.Errorf("buckets %v", b)
	}
	if ops[1].Sum < 3*time.Second {
		t.Errorf("sum %v", ops[1].Sum)
	}
}

// messageIndexOf reads the same index as msgIndex for every id, in the
// dialect or not.
func TestMessageIndexOf(t *testing.T) {
	for id := range uint32(70000) {
		want, wantOK := msgIndex[id]
		if got, ok := messageIndexOf(id); got != want && wantOK || ok != wantOK {
			t.Fatalf("id %d: %d, %v; want %d, %v", id, got, ok, want, wantOK)
		}
	}
}
