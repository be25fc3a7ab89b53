package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	v1 "coopcloud.tech/ccci-controller/api/v1"
)

// Client talks to a running daemon's API for the commands given --server.
type Client struct {
	// BaseURL is the daemon's address, e.g. http://127.0.0.1:8089. Required.
	BaseURL string
	// Token is the bearer token (--token-file). Optional on loopback.
	Token string
	// HTTP is the HTTP client. Optional. Defaults to http.DefaultClient.
	HTTP *http.Client
}

// Run returns run id and its RecipeTest.
func (c *Client) Run(ctx context.Context, id string) (string, v1.Run, error) {
	var rv RunView
	err := c.do(ctx, http.MethodGet, "/api/v1/runs/"+url.PathEscape(id), nil, &rv)
	return rv.RecipeTest, rv.Run, err
}

// Log returns the log of one tier of run id.
func (c *Client) Log(ctx context.Context, id string, tier v1.TierName) ([]byte, error) {
	var buf bytes.Buffer
	err := c.do(ctx, http.MethodGet, "/api/v1/runs/"+url.PathEscape(id)+"/logs/"+url.PathEscape(string(tier)), nil, &buf)
	return buf.Bytes(), err
}

// Plan asks the daemon what its next reconciles would do.
func (c *Client) Plan(ctx context.Context, names []string) ([]PlanLine, error) {
	q := url.Values{"name": names}
	var lines []PlanLine
	err := c.do(ctx, http.MethodGet, "/api/v1/plan?"+q.Encode(), nil, &lines)
	return lines, err
}

// Suspend asks the daemon to suspend the WarmCanonical name.
func (c *Client) Suspend(ctx context.Context, name, reason, by string) error {
	return c.do(ctx, http.MethodPost, "/api/v1/objects/warmcanonical/"+url.PathEscape(name)+"/suspend",
		map[string]string{"reason": reason, "by": by}, nil)
}

// Resume asks the daemon to lift the suspension of name and reports whether there was one.
func (c *Client) Resume(ctx context.Context, name string) (bool, error) {
	var res struct {
		Resumed bool `json:"resumed"`
	}
	err := c.do(ctx, http.MethodPost, "/api/v1/objects/warmcanonical/"+url.PathEscape(name)+"/resume", map[string]string{}, &res)
	return res.Resumed, err
}

// do sends a request and decodes a JSON answer into out, or copies it into a *bytes.Buffer.
// An answer of 404 wraps ErrNotFound.
func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(c.BaseURL, "/")+path, body)
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("ask the daemon at %s: %w", c.BaseURL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		var e struct {
			Error string `json:"error"`
		}
		_ = json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&e)
		if resp.StatusCode == http.StatusNotFound {
			return fmt.Errorf("daemon at %s: %s: %w", c.BaseURL, e.Error, ErrNotFound)
		}
		return fmt.Errorf("daemon at %s answered %s: %s", c.BaseURL, resp.Status, e.Error)
	}
	switch o := out.(type) {
	case nil:
		return nil
	case *bytes.Buffer:
		_, err = o.ReadFrom(resp.Body)
	default:
		err = json.NewDecoder(resp.Body).Decode(out)
	}
	if err != nil {
		return fmt.Errorf("read the daemon's answer: %w", err)
	}
	return nil
}

// JUnit returns the JUnit report of run id (GET /runs/{id}/junit.xml).
func (c *Client) JUnit(ctx context.Context, id string) ([]byte, error) {
	var buf bytes.Buffer
	err := c.do(ctx, http.MethodGet, "/runs/"+url.PathEscape(id)+"/junit.xml", nil, &buf)
	return buf.Bytes(), err
}

// RecipeTest returns the RecipeTest name with its status and runs, newest first.
func (c *Client) RecipeTest(ctx context.Context, name string) (RecipeTestView, error) {
	var v RecipeTestView
	err := c.do(ctx, http.MethodGet, "/api/v1/objects/recipetest/"+url.PathEscape(name), nil, &v)
	return v, err
}
