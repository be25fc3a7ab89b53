package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// Post sends t to the daemon at baseURL with the bearer token (when set) and decodes the
// response into out. A non-2xx answer is an error carrying the server's message.
func Post(ctx context.Context, baseURL, token string, t Trigger, out any) error {
	body, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("encode trigger: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(baseURL, "/")+"/api/v1/trigger", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("ask the daemon at %s: %w", baseURL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		var e struct {
			Error string `json:"error"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&e)
		return fmt.Errorf("daemon at %s answered %s: %s", baseURL, resp.Status, e.Error)
	}
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("decode the daemon's answer: %w", err)
	}
	return nil
}
