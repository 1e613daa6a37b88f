module "git_unpinned" {
  source = "git::https://example.com/vpc.git"
}

module "github_main" {
  source = "github.com/hashicorp/example?ref=main"
}

module "scp_master" {
  source = "git@github.com:org/repo.git?ref=master"
}

module "github_subdir_pinned" {
  source = "github.com/org/repo//sub?ref=v1.0.0"
}

module "github_subpath_pinned" {
  source = "github.com/org/repo/sub/dir?ref=v1.2.0"
}

module "hg_default" {
  source = "hg::https://example.com/a?rev=default"
}

module "https_plain" {
  source = "https://example.com/a.git"
}

module "empty_ref" {
  source = "git::https://example.com/a.git?ref="
}

module "semicolon_ref" {
  source = "git::https://example.com/a.git?ref=a;b"
}

module "no_host" {
  source = "git::/abs/path"
}

module "local" {
  source = "./m"
}

module "registry" {
  source  = "hashicorp/consul/aws"
  version = "0.1.0"
}

module "s3" {
  source = "s3::https://s3.amazonaws.com/bucket/vpc.zip"
}

module "git_develop" {
  source = "git::https://example.com/b.git?ref=develop"
}

module "git_tag" {
  source = "git::https://example.com/c.git?ref=v2.3.4"
}

module "git_rev_sha" {
  source = "git::https://example.com/d.git?rev=0123abc"
}

module "ssh_scheme" {
  source = "git::ssh://git@example.com/e.git?ref=main"
}

module "forced_subdir" {
  source = "git::https://example.com/f.git//modules/x?ref=feature"
}

module "interpolated" {
  source = "git::https://example.com/${"g"}.git"
}
