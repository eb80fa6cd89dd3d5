package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/litepaste/litepaste/app/paste"
)

// Takedowns is what the operator's endpoint needs from the store.
type Takedowns interface {
	// Delete deletes the paste whatever its delete token.
	Delete(ctx context.Context, id paste.ID, now time.Time) error
}

// AdminHandler serves the operator's requests. It deletes any paste without
// a token, so it must only ever be served on a listener of its own that the
// public cannot reach (main serves it on a Unix socket):
//
//	DELETE /pastes/{id}  204 taken down; 404 no such paste (or expired); 400 not a paste id
func AdminHandler(store Takedowns, now func() time.Time, log *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("DELETE /pastes/{id}", func(w http.ResponseWriter, r *http.Request) {
		id, err := paste.ParseID(r.PathValue("id"))
		if err != nil {
			http.Error(w, "not a paste id: 8 letters and digits", http.StatusBadRequest)
			return
		}
		switch err := store.Delete(r.Context(), id, now()); {
		case err == nil:
			log.Info("paste taken down", "id", id.String())
			w.WriteHeader(http.StatusNoContent)
		case errors.Is(err, paste.ErrNotFound):
			http.Error(w, "paste not found", http.StatusNotFound)
		default:
			log.Error("take down a paste", "id", id.String(), "err", err)
			http.Error(w, "internal error", http.StatusInternalServerError)
		}
	})
	return mux
}

// ReplicaAdminHandler is a read replica's admin socket: it takes nothing
// down (its copy is the writer's to change) and says where to go instead.
func ReplicaAdminHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "this server is a read replica: run litepaste delete on the writer", http.StatusConflict)
	})
}
