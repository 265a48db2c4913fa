"""A minimal reader for R's serialization format (XDR, versions 2 and 3) and for
lazy-load databases (.rdb/.rdx), enough to read the character vectors of the
Debian r-cran-janeaustenr package without R. Standard library only."""
import bz2
import gzip
import lzma
import struct
import zlib

class R:
    def __init__(s, b):
        s.b=b; s.p=0; s.refs=[]
    def i(s):
        v=struct.unpack('>i', s.b[s.p:s.p+4])[0]; s.p+=4; return v
    def d(s, n):
        v=struct.unpack('>%dd'%n, s.b[s.p:s.p+8*n]); s.p+=8*n; return list(v)
    def header(s):
        assert s.b[:2]==b'X\n', s.b[:2]; s.p=2
        ver=s.i(); s.i(); s.i()
        if ver==3:
            n=s.i(); s.p+=n
    def item(s):
        f=s.i(); t=f&0xff; hasattr_=f&(1<<9); hastag=f&(1<<10)
        if t==254: return None
        if t in (242,241,253,251,250,248,247,246,245,244,243): return ('special',t)
        if t==255:
            idx=f>>8
            if idx==0: idx=s.i()
            return s.refs[idx-1]
        if t==1:
            v=s.item(); s.refs.append(('sym',v)); return ('sym',v)
        if t==9:
            n=s.i()
            if n==-1: return None
            v=s.b[s.p:s.p+n].decode('utf-8','replace'); s.p+=n; return v
        if t in (2,6,17,5):  # pairlist-like
            attr=s.item() if hasattr_ else None
            tag=s.item() if hastag else None
            car=s.item(); cdr=s.item()
            out=[(tag[1] if tag else None, car)]
            if isinstance(cdr,list): out+=cdr
            return out
        if t==16 or t==19 or t==20:
            n=s.i(); v=[s.item() for _ in range(n)]
        elif t in (13,10):
            n=s.i(); v=list(struct.unpack('>%di'%n, s.b[s.p:s.p+4*n])); s.p+=4*n
        elif t==14:
            n=s.i(); v=s.d(n)
        elif t==4:  # ENVSXP
            s.i(); obj={'env':1}; s.refs.append(obj)
            s.item(); s.item(); s.item(); s.item(); return obj
        else:
            raise ValueError('unsupported type %d at %d'%(t,s.p))
        if hasattr_:
            a=s.item(); return {'value':v,'attr':dict((k,x) for k,x in a)}
        return v

def unser(b):
    r=R(b); r.header(); return r.item()

def read_rds(path):
    b=open(path,'rb').read()
    if b[:2]==b'\x1f\x8b': b=gzip.decompress(b)
    return unser(b)

def lazyload(rdb, rdx):
    idx=read_rds(rdx)
    top=dict(zip(idx['attr']['names'], idx['value']))
    vars_=top['variables']
    names=vars_['attr']['names']; vals=vars_['value']
    data=open(rdb,'rb').read()
    out={}
    for n,(off,ln) in zip(names, vals):
        blob=data[off:off+ln]
        size=struct.unpack('>I', blob[:4])[0]
        body=blob[4:]
        if body[:1] in (b'Z',b'2',b'X',b'0'):
            typ=body[:1]; body=body[1:]
            raw={b'Z':zlib.decompress,b'2':bz2.decompress,b'X':lzma.decompress,b'0':lambda x:x}[typ](body)
        else:
            raw=zlib.decompress(body)
        out[n]=unser(raw)
    return out
