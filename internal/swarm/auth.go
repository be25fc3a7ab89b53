package swarm

import (
	"fmt"

	"github.com/docker/cli/cli/config"
	"github.com/docker/cli/cli/config/configfile"
	"github.com/docker/docker/api/types/registry"
)

// DockerConfigFlag names the flag that gives the Docker CLI config directory, for errors.
const DockerConfigFlag = "--docker-config DIR (or DOCKER_CONFIG)"

// dockerHubKey is where the Docker CLI's config keeps Docker Hub's credentials.
const dockerHubKey = "https://index.docker.io/v1/"

// registryAuth reads registry credentials from a Docker CLI config directory (config.json's
// auths and credential helpers), with docker/cli's own config package, so what `docker login`
// stored is what we send. A nil *registryAuth sends none.
type registryAuth struct {
	file *configfile.ConfigFile
}

// SetDockerConfig makes image resolution and service create and update send the credentials
// that the Docker CLI config in dir holds for each image's registry, as `docker stack deploy
// --with-registry-auth` does, so every node can pull a private image. An empty dir means the
// CLI's default: $DOCKER_CONFIG, else ~/.docker. A missing config.json means no credentials;
// an unreadable or malformed one is an error naming the directory. Credentials are never
// logged or put in an error.
func (c *Client) SetDockerConfig(dir string) error {
	file, err := config.Load(dir)
	if err != nil {
		// The loader's error names the file and the JSON problem, never a credential.
		return fmt.Errorf("read docker config (%s): %w", DockerConfigFlag, err)
	}
	c.auth = &registryAuth{file: file}
	return nil
}

// encoded is the X-Registry-Auth value for host's credentials, empty when there are none.
func (a *registryAuth) encoded(host string) (string, error) {
	if a == nil || a.file == nil {
		return "", nil
	}
	key := host
	if host == "docker.io" || host == "index.docker.io" {
		key = dockerHubKey
	}
	ac, err := a.file.GetAuthConfig(key)
	if err != nil {
		// A credential helper's error may quote its own output; say only which registry.
		return "", fmt.Errorf("read credentials for registry %s from the docker config: credential helper failed", host)
	}
	if ac.Username == "" && ac.Password == "" && ac.IdentityToken == "" && ac.RegistryToken == "" && ac.Auth == "" {
		return "", nil
	}
	return registry.EncodeAuthConfig(registry.AuthConfig{
		Username: ac.Username, Password: ac.Password, Auth: ac.Auth, ServerAddress: key,
		IdentityToken: ac.IdentityToken, RegistryToken: ac.RegistryToken,
	})
}
